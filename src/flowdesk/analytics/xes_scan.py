"""XES text to rows in bulk: every tag of a batch becomes a Polars row, no Python per element.

Why: walking a parsed tree (or taking a SAX callback) costs Python work for every one of the
~6 elements an event has, which made the import of a million-event log take about 9 s of CPU.
Here a batch of text is split on '<' and the pieces are classified with vectorised string
operations; nesting levels come from a cumulative sum over the open and close tags, so the
rows of a trace, an event and its attributes fall out as filters over columns.

Splitting on '<' is an exact tokenization only of text that is well-formed XML (a raw '<'
cannot occur in attribute values or text) once comments, CDATA sections and processing
instructions are blanked out. The caller (xes.py) guarantees that: it runs a real XML parser
over every byte before the bytes reach this module, and calls `blank_markup` first. Tags in
the common form `<string key="k" value="v"/>` or without attributes are read in bulk; any other
form (single quotes, other attribute order, extra attributes) is read by a small exact
parser in Python, which only odd files pay for.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

#: XML whitespace (not Unicode whitespace, which `str.strip()` would use).
WS = " \t\r\n"
SIMPLE_TYPES = frozenset({"string", "date", "int", "float", "boolean", "id"})
#: Kind codes of a tag's local name.
OTHER, SIMPLE, EVENT, TRACE, LOG = 0, 1, 2, 3, 4
_KINDS = {"event": EVENT, "trace": TRACE, "log": LOG} | dict.fromkeys(SIMPLE_TYPES, SIMPLE)

#: Comments, CDATA sections and processing instructions, complete or (last three) unfinished.
_MARKUP = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|(?P<unfinished><!--|<!\[CDATA\[|<\?)", re.S
)
_TAG = re.compile(
    r"(/)?([^ \t\r\n/>]+)"
    r"((?:[ \t\r\n]+[^ \t\r\n=]+[ \t\r\n]*=[ \t\r\n]*(?:\"[^\"]*\"|'[^']*'))*)"
    r"[ \t\r\n]*(/)?>"
)
_ATTRIBUTE = re.compile(r"([^ \t\r\n=]+)[ \t\r\n]*=[ \t\r\n]*(\"[^\"]*\"|'[^']*')")
_NORMALISED = re.compile(r"\r\n|[\r\n\t]")
_REFERENCE = re.compile(r"&(?:#x([0-9a-fA-F]+)|#([0-9]+)|(lt|gt|amp|quot|apos));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


@dataclass(frozen=True, slots=True)
class State:
    """Where the scan stands between batches: nesting depth and counts so far."""

    depth: int = 0
    #: The open element at level 1 (under the root) is a <trace>.
    in_trace: bool = False
    #: The open element at level 2 is an <event>.
    in_event: bool = False
    traces: int = 0
    events: int = 0
    root: str | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    """What one batch of text holds. Token numbers count tags from the start of the batch."""

    #: Characters of the text that were turned into rows (the rest waits for the next batch).
    consumed: int
    #: One row per event of a trace: token, event (number in the file), trace.
    events: pl.DataFrame
    #: One row per attribute of an event: token, event, key, value, name (tag as written).
    attributes: pl.DataFrame
    #: One row per attribute of a trace: token, trace, key, value, name.
    trace_attributes: pl.DataFrame
    #: (token, message) of the first structural problem, if any.
    problems: list[tuple[int, str]]
    state: State
    lead: int
    tokens: pl.Series

    def offset(self, token: int) -> int:
        """Position in the batch text of the '<' that starts `token`."""
        before = self.tokens.slice(0, token).str.len_chars().sum()
        return self.lead + int(before) + token


def blank_markup(text: str, *, final: bool) -> tuple[str, int]:
    """`text` with comments, CDATA and processing instructions replaced by their newlines
    (so line numbers stay right), and where an unfinished one starts (len(text) if none)."""
    # '!' and '?' are searched first: a one-character search is a fast memchr, while "<!"
    # makes Python test every '<' of the text
    if ("!" not in text or "<!" not in text) and ("?" not in text or "<?" not in text):
        return text, len(text)
    pieces: list[str] = []
    position = 0
    for found in _MARKUP.finditer(text):
        start, end = found.span()
        if found.lastgroup == "unfinished":
            if not final:
                pieces.append(text[position:start])
                kept = sum(map(len, pieces))
                return "".join(pieces) + text[start:], kept
            continue  # the validator has seen the whole document; cannot happen
        pieces.append(text[position:start])
        pieces.append("\n" * found.group().count("\n"))
        position = end
    pieces.append(text[position:])
    blanked = "".join(pieces)
    return blanked, len(blanked)


def scan(text: str, state: State, *, final: bool) -> Batch:
    """The rows of a batch of well-formed XES text (starting anywhere between two tags).

    Unless `final`, an event still open at the end of the text is left for the next batch
    (`consumed` stops at its '<'), so every event is read from one batch.
    """
    pieces = pl.Series("t", [text], dtype=pl.String).str.split("<").explode()
    lead = len(pieces[0])
    tokens = pieces.slice(1)
    rows = _structure(_tags(tokens), state)
    count = rows.height
    depth_end = state.depth + int(rows.get_column("delta").sum()) if count else state.depth
    cut = count
    if not final and depth_end >= 3 and count:
        last = rows.row(count - 1, named=True)
        if last["in_event"] and last["in_trace"]:
            cut = int(rows.get_column("role").eq(_EVENT_ROW).arg_true()[-1])
    kept = rows.slice(0, cut)
    if cut == count:
        consumed = len(text)
    elif cut == 0:
        consumed = 0  # the open event began the batch: nothing to take yet
    else:
        consumed = lead + int(tokens.slice(0, cut).str.len_chars().sum()) + cut
    role = pl.col("role")
    events = kept.filter(role == _EVENT_ROW).select(
        "token",
        (pl.col("events").cast(pl.Int64) + (state.events - 1)).alias("event"),
        (pl.col("traces").cast(pl.Int64) + (state.traces - 1)).alias("trace"),
    )
    attributes = _attribute_rows(kept, _EVENT_ATTRIBUTE, "event", state.events)
    trace_attributes = _attribute_rows(kept, _TRACE_ATTRIBUTE, "trace", state.traces)
    return Batch(
        consumed=consumed,
        events=events,
        attributes=_decoded(attributes),
        trace_attributes=_decoded(trace_attributes),
        problems=_problems(kept),
        state=_state_after(kept, state, rows, cut, depth_end),
        lead=lead,
        tokens=tokens,
    )


def _attribute_rows(rows: pl.DataFrame, role: int, owner: str, before: int) -> pl.DataFrame:
    """token, `owner` (number of the event or trace in the file), key, value, name, fast."""
    return rows.filter(pl.col("role") == role).select(
        "token",
        (pl.col(f"{owner}s").cast(pl.Int64) + (before - 1)).alias(owner),
        "key",
        "value",
        "name",
        "fast",
    )


#: Roles of a tag in the log.
_EVENT_ROW, _EVENT_ATTRIBUTE, _TRACE_ATTRIBUTE = 1, 2, 3
#: Structural problems.
_ROOT, _OUTSIDE, _UNEXPECTED, _MISSING = 1, 2, 3, 4


def _structure(tags: pl.DataFrame, state: State) -> pl.DataFrame:
    """Nesting level, enclosing trace and event, role and problem of every tag.

    The level of a tag is the running sum of +1 per start tag and -1 per end tag before it;
    the element enclosing a tag at level n is the last start tag at level n-1 before it.
    """
    closing, kind = pl.col("closing"), pl.col("kind")
    start = ~closing
    delta = pl.when(closing).then(-1).when("self_closing").then(0).otherwise(1).cast(pl.Int32)
    level, in_trace, in_event = pl.col("level"), pl.col("in_trace"), pl.col("in_event")
    simple = start & (kind == SIMPLE)
    has_key_and_value = pl.col("key").is_not_null() & pl.col("value").is_not_null()
    in_an_event = (level == 3) & in_event & in_trace
    return (
        tags.lazy()
        .with_row_index("token")
        .with_columns(delta.alias("delta"))
        .with_columns((pl.col("delta").cum_sum() - pl.col("delta") + state.depth).alias("level"))
        .with_columns(
            pl.when(start & (level == 1))
            .then(kind == TRACE)
            .forward_fill()
            .fill_null(state.in_trace)
            .alias("in_trace"),
            pl.when(start & (level == 2))
            .then(kind == EVENT)
            .forward_fill()
            .fill_null(state.in_event)
            .alias("in_event"),
            (start & (level == 1) & (kind == TRACE)).cum_sum().alias("traces"),
        )
        .with_columns(
            pl.when(start & (level == 2) & (kind == EVENT) & in_trace)
            .then(_EVENT_ROW)
            .when(simple & in_an_event)
            .then(_EVENT_ATTRIBUTE)
            .when(simple & (level == 2) & in_trace)
            .then(_TRACE_ATTRIBUTE)
            .cast(pl.Int8)
            .alias("role"),
            pl.when(start & (level == 0) & (kind != LOG) & pl.lit(state.root is None))
            .then(_ROOT)
            .when(start & (kind == EVENT) & ((level == 1) | ((level >= 2) & ~in_trace)))
            .then(_OUTSIDE)
            .when(start & (kind == OTHER) & in_an_event & has_key_and_value)
            .then(_UNEXPECTED)
            .when(simple & (in_an_event | ((level == 2) & in_trace)) & ~has_key_and_value)
            .then(_MISSING)
            .cast(pl.Int8)
            .alias("problem"),
        )
        .with_columns((pl.col("role") == _EVENT_ROW).fill_null(False).cum_sum().alias("events"))
        .collect()
    )


def _tags(tokens: pl.Series) -> pl.DataFrame:
    """Per token: closing, self_closing, name, kind, key, value, and whether it was `fast`.

    A token is cut at its first four double quotes. What comes before the first quote (the
    "head": `string key=` or, for a tag without attributes, the whole token such as `/event>`)
    and what follows the fourth (`/>`) take a handful of distinct values in a whole file, so
    they are read once per distinct value in Python and spread over the rows by lookup.
    """
    parts = (
        pl.DataFrame({"t": tokens})
        .select(pl.col("t").str.splitn('"', 5).struct.unnest())
        .rename({f"field_{i}": f"q{i}" for i in range(5)})
    )
    heads = _by_value(parts.get_column("q0"), _head, _HEAD_SCHEMA)
    ends = _ends(parts.get_column("q4"))
    form, end = pl.col("form"), pl.col("end")
    fast = ((form == _ATTRIBUTES) & (pl.col("q2") == " value=") & end.is_not_null()).fill_null(
        False
    )
    bare = (form == _BARE).fill_null(False)
    tags = (
        pl.concat([parts, heads, ends], how="horizontal")
        .lazy()
        .with_columns(fast.alias("fast"), bare.alias("bare"))
        .select(
            "fast",
            (pl.col("bare") & pl.col("closing")).alias("closing"),
            pl.when("fast").then(end).when("bare").then("self_closing").alias("self_closing"),
            pl.when(pl.col("fast") | pl.col("bare")).then("name").alias("name"),
            pl.when(pl.col("fast") | pl.col("bare")).then("kind").alias("kind"),
            pl.when("fast").then("q1").alias("key"),
            pl.when("fast").then("q3").alias("value"),
        )
        .collect()
    )
    odd = tags.get_column("name").is_null()
    if odd.any():
        tags = _read_odd(tags, tokens, odd)
    return tags


#: Forms of a token head.
_ATTRIBUTES, _BARE, _ODD = 0, 1, 2
_HEAD_SCHEMA: dict[str, Any] = {
    "form": pl.Int8,
    "closing": pl.Boolean,
    "self_closing": pl.Boolean,
    "name": pl.String,
    "kind": pl.Int8,
}
_NOT_IN_NAMES = frozenset(WS + "<>/='\"")


def _head(head: str) -> tuple[int, bool, bool, str | None, int]:
    """(form, closing, self_closing, name, kind) of the text before a token's first quote."""
    if head.endswith(" key="):
        name = head[:-5].rstrip(WS)
        if name and not _NOT_IN_NAMES.intersection(name):
            return _ATTRIBUTES, False, False, name, _kind(name)
    end = head.find(">")
    if end >= 0 and "'" not in head[:end]:  # no quote before the '>': no attributes
        tag = head[:end]
        name = tag.strip("/" + WS)
        return _BARE, tag.startswith("/"), tag.rstrip(WS).endswith("/"), name, _kind(name)
    return _ODD, False, False, None, OTHER


def _end(rest: str) -> tuple[bool | None]:
    """Whether the text after a value's closing quote ends the tag (and how), else None."""
    rest = rest.lstrip(WS)
    return (True if rest.startswith("/>") else False if rest.startswith(">") else None,)


def _ends(rests: pl.Series) -> pl.DataFrame:
    """`_end` of every row: directly where the tag ends right after the quote (the usual
    `"/>`), by distinct value where there is whitespace first."""
    direct = pl.select(
        pl.when(rests.str.starts_with("/>"))
        .then(True)
        .when(rests.str.starts_with(">"))
        .then(False)
        .alias("end")
    )
    spaced = rests.is_not_null() & direct.get_column("end").is_null()
    if not spaced.any():
        return direct
    index = spaced.arg_true()
    found = _by_value(rests.gather(index), _end, {"end": pl.Boolean}).get_column("end")
    return direct.with_columns(direct.get_column("end").scatter(index, found))


def _by_value(
    column: pl.Series, read: Callable[[str], tuple[Any, ...]], schema: dict[str, Any]
) -> pl.DataFrame:
    """`read` applied once per distinct value of `column`, as columns aligned with its rows."""
    distinct = column.drop_nulls().unique()
    table = pl.DataFrame([read(value) for value in distinct.to_list()], schema=schema, orient="row")
    index = column.replace_strict(
        distinct, pl.int_range(distinct.len(), dtype=pl.UInt32, eager=True), default=None
    )
    return table.select(pl.all().gather(index))


def _read_odd(tags: pl.DataFrame, tokens: pl.Series, odd: pl.Series) -> pl.DataFrame:
    """Tags in an uncommon form, read one by one with an exact (regex) tag parser."""
    index = odd.arg_true()
    read = [_odd_tag(token) for token in tokens.gather(index).to_list()]
    columns = {
        "closing": pl.Series([r[0] for r in read], dtype=pl.Boolean),
        "self_closing": pl.Series([r[1] for r in read], dtype=pl.Boolean),
        "name": pl.Series([r[2] for r in read], dtype=pl.String),
        "kind": pl.Series([_kind(r[2]) for r in read], dtype=pl.Int8),
        "key": pl.Series([r[3] for r in read], dtype=pl.String),
        "value": pl.Series([r[4] for r in read], dtype=pl.String),
    }
    updated = [
        tags.get_column(name).clone().scatter(index, values) for name, values in columns.items()
    ]
    return tags.with_columns(updated)


def _odd_tag(token: str) -> tuple[bool, bool, str, str | None, str | None]:
    """(closing, self-closing, name, key, value) of a tag in any well-formed form."""
    found = _TAG.match(token)
    if found is None:  # the validator has passed the text; cannot happen
        raise ValueError(f"unreadable tag <{token[:40]}")
    attributes = {name: quoted[1:-1] for name, quoted in _ATTRIBUTE.findall(found.group(3))}
    key, value = attributes.get("key"), attributes.get("value")
    return (
        found.group(1) is not None,
        found.group(4) is not None,
        found.group(2),
        None if key is None else unescape(key),
        None if value is None else unescape(value),
    )


def _kind(name: str) -> int:
    return _KINDS.get(local_name(name), OTHER)


def local_name(name: str) -> str:
    """The name without its namespace prefix."""
    return name.rpartition(":")[2]


def unescape(raw: str) -> str:
    """An attribute value as XML reads it: whitespace normalised, references resolved."""
    if "&" not in raw and "\r" not in raw and "\n" not in raw and "\t" not in raw:
        return raw
    return _REFERENCE.sub(_reference, _NORMALISED.sub(" ", raw))


def _reference(found: re.Match[str]) -> str:
    hexadecimal, decimal, named = found.groups()
    if named:
        return _NAMED[named]
    return chr(int(hexadecimal, 16) if hexadecimal else int(decimal))


def _decoded(rows: pl.DataFrame) -> pl.DataFrame:
    """Keys and values read in bulk, with references and whitespace resolved where present."""
    marks = "[&\r\n\t]"
    needs = rows.select(
        pl.col("fast") & (pl.col("key").str.contains(marks) | pl.col("value").str.contains(marks))
    ).to_series()
    if needs.any():
        index = needs.arg_true()
        fixed = [
            rows.get_column(column)
            .clone()
            .scatter(index, [unescape(v) for v in rows.get_column(column).gather(index).to_list()])
            for column in ("key", "value")
        ]
        rows = rows.with_columns(fixed)
    return rows.drop("fast")


def _state_after(
    kept: pl.DataFrame, state: State, rows: pl.DataFrame, cut: int, depth_end: int
) -> State:
    """The state at the end of `kept` (the rows before `cut`)."""
    root = state.root
    if root is None:
        roots = kept.filter(~pl.col("closing") & (pl.col("level") == 0))
        if roots.height:
            root = str(roots.get_column("name")[0])
    if kept.height == 0:
        return replace(state, root=root)
    last: dict[str, Any] = kept.row(kept.height - 1, named=True)
    if cut < rows.height:  # stopped before an event start: the state just before it
        return State(
            depth=int(rows.get_column("level")[cut]),
            in_trace=True,
            in_event=False,
            traces=state.traces + int(rows.get_column("traces")[cut]),
            events=state.events + int(last["events"]),
            root=root,
        )
    return State(
        depth=depth_end,
        in_trace=bool(last["in_trace"]),
        in_event=bool(last["in_event"]),
        traces=state.traces + int(last["traces"]),
        events=state.events + int(last["events"]),
        root=root,
    )


def _problems(rows: pl.DataFrame) -> list[tuple[int, str]]:
    """The first structural problem of the rows, as (token, message)."""
    found = rows.get_column("problem").is_not_null().arg_true()
    if found.len() == 0:
        return []
    row = rows.row(int(found[0]), named=True)
    problem, name = row["problem"], row["name"]
    if problem == _ROOT:
        message = f"root element is <{name}>, an XES file has <log>"
    elif problem == _OUTSIDE:
        message = "<event> outside a <trace>"
    elif problem == _UNEXPECTED:
        message = f"unexpected <{name}> in an event"
    else:
        message = f"<{local_name(name)}> attribute without key or value"
    return [(int(row["token"]), message)]
