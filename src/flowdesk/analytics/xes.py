"""XES import (IEEE 1849-2016): plain or gzip files, streamed, parsed safely and in bulk.

XES files from other systems are user input and can be hundreds of megabytes. Any DOCTYPE or
ENTITY declaration is refused before parsing starts (XXE and entity bombs); lxml then checks
every byte as XML (entities, DTD loading and the network off; a syntax error is reported with
its line and column) while building nothing, and `xes_scan` turns the same text, batch by
batch, into columns with vectorised Polars string operations, so no Python runs per element:
that is what makes a million-event log import in a few seconds. Every failure is a ModelError
naming the file and line.
"""

from __future__ import annotations

import codecs
import gzip
import io
import re
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, NoReturn, TypeVar

import polars as pl
from lxml import etree

from flowdesk.analytics.log import (
    ACTIVITY,
    CASE,
    CORE_COLUMNS,
    DEPARTMENT,
    LIFECYCLE,
    ORDER,
    RESOURCE,
    TIME_DTYPE,
    TIMESTAMP,
    EventLog,
)
from flowdesk.analytics.xes_scan import Batch, State, blank_markup, local_name, scan
from flowdesk.core.errors import ModelError, Position

CHUNK = 1 << 20
#: Characters of text turned into rows at a time (a batch also ends between two events).
BATCH_CHARS = 4 << 20
#: The prolog (before the root element) is searched for DOCTYPE within this many bytes.
MAX_PROLOG = 1 << 20
#: Internal column: the number of the event's trace, replaced by the case name at the end.
_TRACE = "\x00trace"
_DECLARATION = re.compile(
    rb"(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding[ \t\r\n]*=[ \t\r\n]*[\"']([A-Za-z][\w.:-]*)[\"']"
)

KEY_TO_COLUMN = {
    "concept:name": ACTIVITY,
    "time:timestamp": TIMESTAMP,
    "lifecycle:transition": LIFECYCLE,
    "org:resource": RESOURCE,
    "org:group": DEPARTMENT,
}
COLUMN_TO_KEY = {column: key for key, column in KEY_TO_COLUMN.items()}
#: Column of the streamed batches (`stream_xes`): the number of the event's trace, from 0.
TRACE = "trace"
T = TypeVar("T")


def read_xes(source: str | Path | bytes | IO[bytes], *, filename: str | None = None) -> EventLog:
    """Read an XES log (plain or gzip, detected from the content) into an EventLog."""
    return _open(source, filename, lambda name, chunks: _Reader(name).read(chunks))


def stream_xes(
    source: str | Path | bytes | IO[bytes],
    sink: Callable[[pl.DataFrame], None],
    *,
    filename: str | None = None,
) -> pl.DataFrame:
    """Read an XES log batch by batch without holding its events: each batch goes to `sink`
    as soon as it is read, so memory holds one batch (and the case table), not the log.

    A batch has the columns `read_xes` gives (core columns, `order`, attributes as text,
    timestamps parsed) with `trace` (the trace's number, from 0) instead of `case`, because a
    trace's name may come after its events; the returned case table maps `trace` to `case`
    and the trace attributes (as text). Problems raise ModelError as `read_xes` does, possibly
    after earlier batches went to `sink`."""
    return _open(source, filename, lambda name, chunks: _Reader(name, sink).stream(chunks))


def _open(
    source: str | Path | bytes | IO[bytes],
    filename: str | None,
    run: Callable[[str, Iterator[bytes]], T],
) -> T:
    if isinstance(source, bytes):
        return _read(io.BytesIO(source), filename or "<bytes>", run)
    if isinstance(source, str | Path):
        path = Path(source)
        name = filename or str(path)
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise ModelError(
                f"cannot read file: {exc.strerror}", position=Position(file=name)
            ) from exc
        with handle:
            return _read(handle, name, run)
    return _read(source, filename or "<stream>", run)


def _read(raw: IO[bytes], name: str, run: Callable[[str, Iterator[bytes]], T]) -> T:
    head = raw.read(2)
    read: Callable[[int], bytes] = _Prefixed(head, raw).read
    zipped = head == b"\x1f\x8b"
    if zipped:
        read = gzip.GzipFile(fileobj=_Prefixed(head, raw), mode="rb").read
    try:
        return run(name, _chunks(read, name))
    except (OSError, EOFError, zlib.error) as exc:
        what = "decompress" if zipped else "read"
        raise ModelError(f"cannot {what}: {exc}", position=Position(file=name)) from exc


class _Prefixed(io.RawIOBase):
    """A stream that first returns `head` (bytes already read to sniff gzip), then `rest`."""

    def __init__(self, head: bytes, rest: IO[bytes]):
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._head:
            data, self._head = self._head, b""
            if size < 0:
                return data + self._rest.read()
            return data + self._rest.read(max(size - len(data), 0))
        return self._rest.read(size)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _chunks(read: Callable[[int], bytes], name: str) -> Iterator[bytes]:
    """The file in chunks, after checking that its prolog declares no DOCTYPE or ENTITY."""
    prolog = b""
    while True:
        chunk = read(CHUNK)
        if not chunk:
            _check_prolog(prolog, name, complete=True)
            if prolog:
                yield prolog
            return
        prolog += chunk
        if _check_prolog(prolog, name, complete=False):
            break
        if len(prolog) > MAX_PROLOG:
            raise ModelError(
                "no root element found in the first megabyte", position=Position(file=name)
            )
    yield prolog
    while chunk := read(CHUNK):
        yield chunk


def _check_prolog(data: bytes, name: str, *, complete: bool) -> bool:
    """True once the root element's start is in `data`; raises on DOCTYPE/ENTITY before it."""
    if b"\x00" in data[:4]:
        raise ModelError(
            "XES files must be UTF-8 (or another ASCII-compatible encoding)",
            position=Position(file=name, line=1),
            hint="UTF-16 and UTF-32 are not supported; convert the file to UTF-8",
        )
    position = 0
    while True:
        start = data.find(b"<", position)
        if start == -1 or start + 1 >= len(data):
            return False
        following = data[start + 1 : start + 2]
        if following == b"?":
            end = data.find(b"?>", start)
        elif data.startswith(b"<!--", start):
            end = data.find(b"-->", start)
        elif following == b"!":
            if not complete and len(data) - start < 9:
                return False
            line = data[:start].count(b"\n") + 1
            raise ModelError(
                "DOCTYPE and ENTITY declarations are not allowed in XES files",
                position=Position(file=name, line=line),
                hint="remove the DOCTYPE; XES never needs one",
            )
        else:
            return True
        if end == -1:
            return False
        position = end + 2


def _decoder(prolog: bytes, name: str) -> codecs.IncrementalDecoder:
    """A decoder for the encoding the XML declaration names (UTF-8 when it names none)."""
    found = _DECLARATION.match(prolog)
    encoding = found.group(1).decode("ascii") if found else "utf-8"
    try:
        info = codecs.lookup(encoding)
    except LookupError as exc:
        raise ModelError(
            f"unsupported encoding '{encoding}'", position=Position(file=name, line=1)
        ) from exc
    if info.name.startswith(("utf-16", "utf-32")):
        raise ModelError(
            "XES files must be UTF-8 (or another ASCII-compatible encoding)",
            position=Position(file=name, line=1),
            hint="UTF-16 and UTF-32 are not supported; convert the file to UTF-8",
        )
    if info.name == "utf-8":
        info = codecs.lookup("utf-8-sig")  # drops a byte order mark
    return info.incrementaldecoder("strict")


class _Ignore:
    """A parser target that keeps nothing: lxml then only checks the XML, in C."""

    def close(self) -> None:
        return None


class _Reader:
    """Checks the XML with lxml and reads its rows in bulk with `xes_scan`, batch by batch.

    Every chunk goes through lxml's parser first (well-formedness, entities, the precise line
    and column of a syntax error), with a target that builds nothing, so no Python runs per
    element. The same text, decoded, is then cut into batches of about BATCH_CHARS that end
    between two tags; each batch becomes columns (one row per event), so memory holds the
    table and one batch of text, not the document.
    """

    def __init__(self, name: str, sink: Callable[[pl.DataFrame], None] | None = None):
        self.name = name
        self.sink = sink
        self.streamed = 0
        self.state = State()
        self.pending: list[str] = []
        self.pending_chars = 0
        self.wait_for = BATCH_CHARS
        #: Newlines in the text already turned into rows.
        self.lines = 0
        self.frames: list[pl.DataFrame] = []
        self.types: dict[str, str] = {}
        self.trace_parts: list[pl.DataFrame] = []
        self.trace_types: dict[str, str] = {}

    def read(self, chunks: Iterator[bytes]) -> EventLog:
        self._consume(chunks)
        return self._build()

    def stream(self, chunks: Iterator[bytes]) -> pl.DataFrame:
        """Every batch to the sink; the case table (trace, case, trace attributes as text)."""
        self._consume(chunks)
        traces = self.state.traces
        trace_columns = _columns(self._trace_rows(), "trace", traces, 0)
        table: dict[str, pl.Series] = {
            TRACE: pl.int_range(traces, dtype=pl.Int64, eager=True).alias(TRACE),
            CASE: self._case_names(trace_columns).alias(CASE),
        }
        for key in self.trace_types:
            if key != "concept:name":
                table[_column_name(key)] = trace_columns[key].alias(_column_name(key))
        return pl.DataFrame(table)

    def _consume(self, chunks: Iterator[bytes]) -> None:
        # typed Any: the stubs want every target method, but lxml calls back only for those
        # a target has, and here it must call none
        target: Any = _Ignore()
        parser = etree.XMLParser(
            target=target,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
        )
        decoder: codecs.IncrementalDecoder | None = None
        for chunk in chunks:
            if decoder is None:
                decoder = _decoder(chunk, self.name)
            self._checked(parser.feed, chunk)
            self._add(decoder, chunk, final=False)
            if self.pending_chars >= self.wait_for:
                self._batch(final=False)
        self._checked(parser.close)
        if decoder is not None:
            self._add(decoder, b"", final=True)
        self._batch(final=True)
        if self.state.root is None:
            raise ModelError("empty XES document", position=Position(file=self.name))

    def _checked(self, step: Callable[..., object], *args: bytes) -> None:
        try:
            step(*args)
        except etree.XMLSyntaxError as exc:
            line, column = exc.position if exc.position else (None, None)
            raise ModelError(
                f"malformed XML: {exc.msg or exc}",
                position=Position(file=self.name, line=line or None, column=column or None),
            ) from exc

    def _add(self, decoder: codecs.IncrementalDecoder, chunk: bytes, *, final: bool) -> None:
        try:
            text = decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            before = sum(piece.count("\n") for piece in self.pending)
            line = self.lines + before + chunk.count(b"\n", 0, exc.start) + 1
            raise ModelError(
                f"malformed XML: not valid {exc.encoding}",
                position=Position(file=self.name, line=line),
            ) from exc
        if text:
            self.pending.append(text)
            self.pending_chars += len(text)

    def _batch(self, *, final: bool) -> None:
        """Turn the pending text, up to the last tag boundary, into rows."""
        text, unfinished = blank_markup("".join(self.pending), final=final)
        if final:
            cut = len(text)
        elif unfinished < len(text):
            cut = unfinished
        else:
            cut = max(text.rfind("<"), 0)
        body = text[:cut]
        batch = scan(body, self.state, final=final)
        if batch.consumed == 0 and not final:
            # one event is longer than the batch: wait for more text rather than rescan
            self.pending, self.pending_chars = [text], len(text)
            self.wait_for = 2 * len(text) + BATCH_CHARS
            return
        self._take(batch, body)
        self.lines += body.count("\n", 0, batch.consumed)
        rest = text[batch.consumed :]
        self.pending, self.pending_chars = [rest], len(rest)
        self.wait_for = BATCH_CHARS
        self.state = batch.state

    def _take(self, batch: Batch, body: str) -> None:
        """Columns of the batch's events; raises the first problem of the batch, with its line."""
        # tag problems first: a bad attribute explains a missing activity in the same event
        problems = list(batch.problems)
        if problems:
            self._fail(min(problems), batch, body)
        events = batch.events
        count = events.height
        base = int(events.get_column("event")[0]) if count else 0
        _record_types(batch.attributes, self.types)
        columns = _columns(batch.attributes, "event", count, base)
        activity = columns.get("concept:name")
        missing = activity.is_null() if activity is not None else pl.repeat(True, count, eager=True)
        if missing.any():
            index = int(missing.arg_true()[0])
            problems.append(
                (int(events.get_column("token")[index]), "event without a concept:name (activity)")
            )
        if "time:timestamp" in columns:
            raw = columns["time:timestamp"]
            parsed = parse_timestamps(raw)
            bad = parsed.is_null() & raw.is_not_null()
            if bad.any():
                index = int(bad.arg_true()[0])
                problems.append(
                    (
                        int(events.get_column("token")[index]),
                        f"time:timestamp '{raw[index]}' is not an ISO 8601 date-time",
                    )
                )
            columns["time:timestamp"] = parsed
        if problems:
            self._fail(min(problems), batch, body)
        if count and self.sink is not None:
            self.sink(self._streamed(columns, events.get_column("trace").alias(TRACE)))
        elif count:
            trace = events.get_column("trace").alias(_TRACE)
            self.frames.append(pl.DataFrame([*columns.values(), trace]))
        trace_rows = batch.trace_attributes
        if trace_rows.height:
            _record_types(trace_rows, self.trace_types)
            # a copy, not views: the strings of a filtered frame point into the batch's text,
            # which would stay alive with them (the whole file, batch by batch)
            kept = trace_rows.select("trace", "key", "value")
            self.trace_parts.append(pl.DataFrame(kept.to_dict(as_series=False), schema=kept.schema))

    def _fail(self, problem: tuple[int, str], batch: Batch, body: str) -> NoReturn:
        token, message = problem
        line = self.lines + body.count("\n", 0, batch.offset(token)) + 1
        raise ModelError(message, position=Position(file=self.name, line=line))

    def _streamed(self, columns: dict[str, pl.Series], trace: pl.Series) -> pl.DataFrame:
        """One batch as `stream_xes` hands it on: core columns renamed, `order` running on."""
        count = trace.len()
        named = [
            column.alias(KEY_TO_COLUMN.get(key) or _column_name(key))
            for key, column in columns.items()
        ]
        order = pl.int_range(self.streamed, self.streamed + count, dtype=pl.Int64, eager=True)
        self.streamed += count
        return pl.DataFrame([*named, order.alias(ORDER), trace])

    def _trace_rows(self) -> pl.DataFrame:
        if self.trace_parts:
            return pl.concat(self.trace_parts)
        return pl.DataFrame(schema={"trace": pl.Int64, "key": pl.String, "value": pl.String})

    def _case_names(self, trace_columns: dict[str, pl.Series]) -> pl.Series:
        """The trace's concept:name, else trace-N (N from 1)."""
        traces = self.state.traces
        numbered = pl.format("trace-{}", pl.int_range(1, traces + 1, dtype=pl.Int64))
        named = trace_columns.get("concept:name")
        return pl.select(
            numbered if named is None else pl.coalesce(pl.lit(named), numbered)
        ).to_series()

    def _build(self) -> EventLog:
        traces = self.state.traces
        trace_columns = _columns(self._trace_rows(), "trace", traces, 0)
        case_names = self._case_names(trace_columns)
        if self.frames:
            frame = pl.concat(self.frames, how="diagonal")
            frame = frame.with_columns(case_names.gather(frame.get_column(_TRACE)).alias(CASE))
            frame = frame.drop(_TRACE)
        else:
            frame = pl.DataFrame(schema={CASE: pl.String, "concept:name": pl.String})
        renames: dict[str, str] = {}
        extras: list[pl.Series] = []
        for key in frame.columns:
            if key in KEY_TO_COLUMN:
                renames[key] = KEY_TO_COLUMN[key]
            elif key != CASE:
                extras.append(_typed(frame.get_column(key), self.types[key]))
                renames[key] = _column_name(key)
        frame = frame.with_columns(extras).rename(renames)
        if TIMESTAMP in frame.columns and frame.schema[TIMESTAMP] == pl.String:
            frame = frame.with_columns(parse_timestamps(frame.get_column(TIMESTAMP)))
        frame = frame.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias(ORDER))
        case_table: dict[str, pl.Series] = {CASE: case_names.alias(CASE)}
        for key, kind in self.trace_types.items():
            if key != "concept:name":
                case_table[key] = _typed(trace_columns[key], kind)
        return EventLog.from_frame(frame, pl.DataFrame(case_table))


def _columns(rows: pl.DataFrame, by: str, count: int, base: int) -> dict[str, pl.Series]:
    """One String column of length `count` per key of (by, key, value) rows; the row number is
    `by` - `base`, and the last value wins where an element repeats a key (as a dict would)."""
    columns: dict[str, pl.Series] = {}
    for (key,), group in rows.group_by("key", maintain_order=True):
        position = group.get_column(by) - base
        values = group.get_column("value")
        repeated = position.diff() == 0
        if repeated.any():
            last = (position != position.shift(-1)).fill_null(True)
            position, values = position.filter(last), values.filter(last)
        name = str(key)
        if values.len() == count:  # sorted, distinct and as many as rows: exactly 0..count-1
            columns[name] = values.alias(name)
        else:
            empty = pl.repeat(None, count, dtype=pl.String, eager=True).alias(name)
            columns[name] = empty.scatter(position, values)
    return columns


def _record_types(rows: pl.DataFrame, types: dict[str, str]) -> None:
    """The type (tag name) of each key at its first appearance; XES keeps it per key."""
    firsts = rows.unique("key", keep="first", maintain_order=True)
    for key, name in zip(firsts.get_column("key"), firsts.get_column("name"), strict=True):
        types.setdefault(key, local_name(name))


def parse_timestamps(raw: pl.Series) -> pl.Series:
    """XES dates (xs:dateTime) as UTC datetimes; values without an offset are taken as UTC.

    Nearly every XES file writes one format throughout, so the other formats are only tried
    when the usual one (with an offset) leaves values unparsed.
    """
    if raw.len() == 0:
        return pl.Series(raw.name, [], dtype=TIME_DTYPE)
    parsed = raw.str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%#z", strict=False, time_zone="UTC", time_unit="us", cache=False
    )
    if not (parsed.is_null() & raw.is_not_null()).any():
        return parsed.alias(raw.name)
    frame = pl.DataFrame({"t": raw, "first": parsed}).select(
        pl.coalesce(
            pl.col("first"),
            pl.col("t")
            .str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us")
            .dt.replace_time_zone("UTC"),
            pl.col("t")
            .str.to_datetime("%Y-%m-%d", strict=False, time_unit="us")
            .dt.replace_time_zone("UTC"),
        )
    )
    return frame.to_series().alias(raw.name)


def _typed(text: pl.Series, kind: str) -> pl.Series:
    """Text values of an attribute converted to its XES type; kept as text if any fails
    (XES allows one key to carry different types in different events)."""
    if kind == "int":
        result = text.cast(pl.Int64, strict=False)
    elif kind == "float":
        result = text.cast(pl.Float64, strict=False)
    elif kind == "boolean":
        lowered = text.str.to_lowercase()
        result = (
            pl.select(
                pl.when(lowered.is_in(["true", "1"]))
                .then(True)
                .when(lowered.is_in(["false", "0"]))
                .then(False)
                .otherwise(None)
            )
            .to_series()
            .alias(text.name)
        )
    elif kind == "date":
        result = parse_timestamps(text)
    else:
        return text
    if (result.is_null() & text.is_not_null()).any():
        return text
    return result


def _column_name(key: str) -> str:
    return f"attr:{key}" if key in (*CORE_COLUMNS, ORDER) else key


def _line(element: Any) -> int | None:
    line = element.sourceline
    return line if isinstance(line, int) else None
