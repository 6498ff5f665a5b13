"""The bulk XES reader against lxml's tree: any spelling of the same log reads the same.

`xes_scan` reads tags with string operations instead of a tree, so these tests write logs in
every form XML allows (quotes, attribute order, whitespace, prefixes, references, comments,
CDATA, processing instructions, text with quotes) and cut into batches of any size, and check
the result against a plain reading of the same bytes with lxml.etree.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from flowdesk.analytics import xes as module
from flowdesk.analytics.xes import read_xes
from flowdesk.core.errors import ModelError

SIMPLE = {"string", "date", "int", "float", "boolean", "id"}
T0 = datetime(2025, 1, 1, tzinfo=UTC)


@contextmanager
def batches(chars: int, chunk: int) -> Iterator[None]:
    """Read with batches of `chars` characters and chunks of `chunk` bytes."""
    saved = module.BATCH_CHARS, module.CHUNK
    module.BATCH_CHARS, module.CHUNK = chars, chunk
    try:
        yield
    finally:
        module.BATCH_CHARS, module.CHUNK = saved


def _local(tag: Any) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _attributes(element: Any) -> dict[str, Any]:
    return {c.get("key"): c.get("value") for c in element if _local(c.tag) in SIMPLE}


def oracle(document: bytes) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Events and cases as a plain walk over lxml's tree reads them."""
    root = etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True))
    events: list[dict[str, Any]] = []
    cases: list[dict[str, Any]] = []
    traces = [child for child in root if _local(child.tag) == "trace"]
    for number, trace in enumerate(traces, start=1):
        attributes = _attributes(trace)
        name = attributes.pop("concept:name", f"trace-{number}")
        cases.append({"case": name, **attributes})
        for event in trace:
            if _local(event.tag) != "event":
                continue
            row = _attributes(event)
            row["time:timestamp"] = datetime.fromisoformat(row["time:timestamp"]).astimezone(UTC)
            events.append({"case": name, **row})
    return events, cases


def flowdesk(document: bytes) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The same, from read_xes, in document order and with XES keys for the core columns."""
    log = read_xes(document)
    back = {"activity": "concept:name", "resource": "org:resource", "timestamp": "time:timestamp"}
    frame = log.events.sort("order").drop("order", "lifecycle", "department")
    events = [
        {back.get(k, k): v for k, v in row.items() if v is not None}
        for row in frame.iter_rows(named=True)
    ]
    cases = [
        {k: v for k, v in row.items() if v is not None} for row in log.cases.iter_rows(named=True)
    ]
    return events, cases


# -- writing one log in many spellings ----------------------------------------------------

#: Characters XML 1.0 allows in text (no other control characters, no surrogates).
XML_CHARS = st.characters(
    codec="utf-8", exclude_categories=["Cs", "Cc"], exclude_characters="\ufffe\uffff"
) | st.sampled_from(["\t", "\n", "\r", "<", ">", "&", '"', "'", " "])
VALUES = st.text(XML_CHARS, max_size=12)
EXTRA_KEYS = st.sampled_from(["note", "k&y", "a<b", "ünï", 'say "hi"', "it's", "x\ty"])


@st.composite
def spelled(draw: st.DrawFn, value: str, quote: str) -> str:
    """`value` escaped for an attribute in `quote`, with references chosen at random."""
    out = []
    for char in value:
        if char == "&" or char == "<" or char == quote:
            out.append(draw(st.sampled_from([f"&#{ord(char)};", f"&#x{ord(char):x};"])))
        elif char in "\t\n\r" and draw(st.booleans()):
            out.append(f"&#{ord(char)};")  # kept; a raw one becomes a space
        elif char in "<>&\"'" and draw(st.booleans()):
            named = {"<": "lt", ">": "gt", "&": "amp", '"': "quot", "'": "apos"}[char]
            out.append(f"&{named};")
        else:
            out.append(char)
    return "".join(out)


SPACE = st.sampled_from([" ", "  ", "\n", "\t", " \r\n "])
PREFIX = st.sampled_from(["", "", "", "xes:"])


@st.composite
def attribute(draw: st.DrawFn, tag: str, key: str, value: str) -> str:
    quote = draw(st.sampled_from(['"', '"', "'"]))
    key_text, value_text = draw(spelled(key, quote)), draw(spelled(value, quote))
    pairs = [f"key{draw(st.sampled_from(['=', ' = ']))}{quote}{key_text}{quote}"]
    pairs.append(f"value={quote}{value_text}{quote}")
    if draw(st.booleans()):
        pairs.reverse()
    if draw(st.integers(0, 5)) == 0:
        pairs.insert(draw(st.integers(0, 2)), "extra='x'")
    prefix = draw(PREFIX)
    head = f"<{prefix}{tag}" + "".join(draw(SPACE) + pair for pair in pairs)
    end = draw(st.sampled_from(["/>", "/>", " />", "\n/>", f"></{prefix}{tag}>"]))
    if end.startswith(">") and draw(st.booleans()):  # a nested attribute is not a column
        end = f"><{prefix}string key='nested' value='n'/></{prefix}{tag}>"
    return head + end


FILLER = st.sampled_from(
    [
        "",
        "",
        "",
        "\n  ",
        "<!-- <event><string key='concept:name' value='FAKE'/></event> \"' -->",
        "<?pi <trace> ?>",
        "<!--\n\n-->",
    ]
)
#: Text inside a trace or event element (CDATA and quotes are text, not attributes).
TEXT = st.sampled_from(["", "", 'it\'s "text"', "<![CDATA[<event>]]>", 'a="b"'])


@st.composite
def logs(draw: st.DrawFn) -> bytes:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n', draw(FILLER)]
    parts.append('<log xes.version="1849-2016" xmlns="http://www.xes-standard.org/"')
    parts.append(' xmlns:xes="http://www.xes-standard.org/">')
    parts.append(draw(attribute("string", "concept:name", "a log")))
    parts.append("<global scope='event'><string key='concept:name' value='x'/></global>")
    when = T0
    for _ in range(draw(st.integers(0, 5))):
        prefix = draw(PREFIX)
        if draw(st.integers(0, 5)) == 0:
            parts.append(f"<{prefix}trace/>")  # an empty trace still counts for trace-N
            continue
        parts.append(f"<{prefix}trace{draw(st.sampled_from(['', ' ']))}>" + draw(TEXT))
        named_last = draw(st.integers(0, 3)) == 0  # the name may follow the events
        if draw(st.integers(0, 4)) and not named_last:
            parts.append(draw(attribute("string", "concept:name", draw(VALUES))))
        if draw(st.booleans()):
            parts.append(draw(attribute("string", draw(EXTRA_KEYS), draw(VALUES))))
        for _ in range(draw(st.integers(0, 4))):
            when += timedelta(seconds=draw(st.integers(0, 10**6)))
            items = [
                ("string", "concept:name", draw(VALUES)),
                ("date", "time:timestamp", when.isoformat()),
            ]
            if draw(st.booleans()):
                items.append(("string", "org:resource", draw(VALUES)))
            if draw(st.booleans()):
                items.append(("string", draw(EXTRA_KEYS), draw(VALUES)))
            order = draw(st.permutations(items))
            event_prefix = draw(PREFIX)
            body = "".join(draw(FILLER) + draw(attribute(*item)) for item in order)
            if draw(st.integers(0, 6)) == 0:
                body += "<list key='l'><values><string key='v' value='1'/></values></list>"
            parts.append(f"<{event_prefix}event>{draw(TEXT)}{body}</{event_prefix}event>")
            parts.append(draw(FILLER))
        if named_last:
            parts.append(draw(attribute("string", "concept:name", draw(VALUES))))
        parts.append(f"</{prefix}trace>\n")
    parts.append("</log>\n")
    return "".join(parts).encode()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    document=logs(),
    chars=st.sampled_from([1, 40, 300, 1 << 20]),
    chunk=st.sampled_from([5, 64, 1 << 20]),
    zipped=st.booleans(),
)
def test_any_spelling_and_any_batch_size_read_as_lxml_reads_it(
    document: bytes, chars: int, chunk: int, zipped: bool
) -> None:
    expected = oracle(document)
    with batches(chars, chunk):
        found = flowdesk(gzip.compress(document) if zipped else document)
    assert found == expected


# -- cases written by hand ----------------------------------------------------------------

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def event(activity: str, minute: int = 0, extra: str = "") -> str:
    return (
        f'<event><string key="concept:name" value="{activity}"/>'
        f'<date key="time:timestamp" value="2025-01-01T00:{minute:02d}:00Z"/>{extra}</event>'
    )


def test_attribute_values_are_read_as_xml_defines_them() -> None:
    body = (
        "<log><trace><string key='concept:name' value='c'/>"
        "<event><string key='concept:name' value='A &amp; B &lt;1&gt; &#65;&#x42; &quot;q&apos;'/>"
        "<string key='raw' value='a\tb\r\nc'/><string key='kept' value='a&#9;b&#10;c'/>"
        "</event></trace></log>"
    )
    row = read_xes((HEAD + body).encode()).events.row(0, named=True)
    assert row["activity"] == "A & B <1> AB \"q'"
    assert row["raw"] == "a b c"  # literal tab and line break: one space each
    assert row["kept"] == "a\tb\nc"  # character references are not normalised


def test_a_repeated_key_keeps_its_last_value_like_a_dict() -> None:
    repeated = '<string key="note" value="first"/><string key="note" value="second"/>'
    log = read_xes((HEAD + f"<log><trace>{event('A', extra=repeated)}</trace></log>").encode())
    assert log.events.get_column("note").to_list() == ["second"]


def test_an_event_longer_than_a_batch_is_read_whole() -> None:
    many = "".join(f'<int key="n{i}" value="{i}"/>' for i in range(200))
    document = (HEAD + f"<log><trace>{event('A', 1, many)}{event('B', 2)}</trace></log>").encode()
    with batches(64, 16):
        log = read_xes(document)
    assert log.events.get_column("activity").to_list() == ["A", "B"]
    assert log.events.row(0, named=True)["n199"] == 199


def test_a_late_error_names_its_line_across_batches_and_comments() -> None:
    lines = [HEAD.rstrip("\n"), "<log>"]
    for i in range(300):
        lines.append(f"<trace><string key='concept:name' value='c{i}'/>")
        lines.append("<!-- a comment\nover two lines -->")
        stamp = "not a date" if i == 250 else f"2025-01-01T00:00:{i % 60:02d}Z"
        lines.append(
            f"<event><string key='concept:name' value='A'/>"
            f"<date key='time:timestamp' value='{stamp}'/></event>"
        )
        lines.append("</trace>")
    lines.append("</log>")
    text = "\n".join(lines)
    expected = text[: text.index("not a date")].count("\n") + 1
    late = pytest.raises(ModelError, match="'not a date' is not an ISO 8601")
    with batches(500, 100), late as caught:
        read_xes(text.encode(), filename="late.xes")
    assert caught.value.position is not None and caught.value.position.line == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "<log><global scope='event'>\n<event><string key='concept:name' value='A'/>"
            "</event></global></log>",
            "outside a <trace>",
        ),
        (
            "<log><trace><event><string key='concept:name' value='A'/>\n"
            "<colour value='red' key='c'/></event></trace></log>",
            "unexpected <colour>",
        ),
        ("<log><trace>\n<event></event></trace></log>", "without a concept:name"),
        ("<log><trace>\n<event/></trace></log>", "without a concept:name"),
    ],
)
def test_structure_errors_in_any_spelling(body: str, message: str) -> None:
    with pytest.raises(ModelError, match=message) as caught:
        read_xes((HEAD + body).encode(), filename="bad.xes")
    assert caught.value.position is not None and caught.value.position.line == 3


def test_events_nested_deeper_in_a_trace_are_not_events() -> None:
    nested = f"<list key='l'><values>{event('hidden')}</values></list>"
    log = read_xes((HEAD + f"<log><trace>{nested}{event('A')}</trace></log>").encode())
    assert log.events.get_column("activity").to_list() == ["A"]


def test_the_declared_encoding_is_used() -> None:
    body = "<log><trace><event><string key='concept:name' value='Café'/></event></trace></log>"
    latin = ("<?xml version='1.0' encoding='ISO-8859-1'?>\n" + body).encode("latin-1")
    assert read_xes(latin).events.get_column("activity").to_list() == ["Café"]
    with_bom = b"\xef\xbb\xbf" + (HEAD + body).encode()
    assert read_xes(with_bom).events.get_column("activity").to_list() == ["Café"]


def test_bad_encodings_are_refused_with_a_line() -> None:
    unknown = b"<?xml version='1.0' encoding='x-no-such'?>\n<log/>"
    with pytest.raises(ModelError, match="encoding"):
        read_xes(unknown)
    broken = (HEAD + "<log>\n<trace>\n").encode() + b"<event><string key='a' value='\xff'/>"
    with pytest.raises(ModelError, match="malformed XML|not valid") as caught:
        read_xes(broken + b"</event></trace></log>")
    assert caught.value.position is not None and caught.value.position.line == 4


def test_a_large_generated_log_reads_the_same_in_small_batches(xes_dir: Any) -> None:
    path = xes_dir / "generated.xes.gz"
    whole = read_xes(path)
    with batches(4096, 1000):
        small = read_xes(path)
    assert whole.event_count == 5000
    assert whole.events.equals(small.events) and whole.cases.equals(small.cases)
    assert small.events.schema["timestamp"] == pl.Datetime("us", "UTC")
