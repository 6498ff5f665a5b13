"""XES import: plain and gzip, namespaces, typed attributes, and safe, clear failures."""

from __future__ import annotations

import gzip
import io
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flowdesk.analytics.xes import read_xes
from flowdesk.core.errors import ModelError

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def xes(body: str, *, head: str = HEAD) -> bytes:
    return (head + body).encode()


def test_plain_and_gzip_files_read_the_same(xes_dir: Path) -> None:
    plain = read_xes(xes_dir / "refunds.xes")
    zipped = read_xes(xes_dir / "refunds.xes.gz")
    assert plain.event_count == 34 and plain.case_count == 5
    assert_frame_equal(plain.events, zipped.events)
    assert_frame_equal(plain.cases, zipped.cases)


def test_gzip_is_recognised_by_content_not_name(xes_dir: Path, tmp_path: Path) -> None:
    renamed = tmp_path / "export.xml"
    renamed.write_bytes((xes_dir / "refunds.xes.gz").read_bytes())
    assert read_xes(renamed).event_count == 34
    stream = io.BytesIO((xes_dir / "refunds.xes.gz").read_bytes())
    assert read_xes(stream).case_count == 5


def test_core_columns_and_sorting(xes_dir: Path) -> None:
    log = read_xes(xes_dir / "refunds.xes")
    first = log.events.row(0, named=True)
    assert first["case"] == "r1" and first["activity"] == "Register request"
    assert first["timestamp"] == datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
    assert first["department"] == "Front office" and first["resource"] == "front-0"
    assert log.events.get_column("lifecycle").null_count() == 34


def test_typed_attributes_offsets_and_nested_values(xes_dir: Path) -> None:
    log = read_xes(xes_dir / "attributes.xes")
    events = log.events
    assert events.schema["cost"] == pl.Int64
    assert events.schema["amount"] == pl.Float64
    assert events.schema["urgent"] == pl.Boolean
    assert events.schema["due"] == pl.Datetime("us", "UTC")
    assert events.schema["ticket"] == pl.String
    assert "tags" not in events.columns and "meta" not in events.columns  # list, nested
    first, second, third = events.iter_rows(named=True)
    assert first["activity"] == "Receive <complaint>"
    # 10:00:00.250 at +02:00 is 08:00:00.250 UTC; no offset at all is taken as UTC.
    assert first["timestamp"] == datetime(2025, 2, 1, 8, 0, 0, 250000, tzinfo=UTC)
    assert third["timestamp"] == datetime(2025, 2, 2, 10, 0, tzinfo=UTC)
    assert (first["cost"], first["amount"], first["urgent"]) == (15, 12.5, True)
    assert (second["cost"], second["amount"], second["urgent"]) == (7, None, False)
    assert third["case"] == "trace-2"  # a trace without a name gets its position
    cases = {row["case"]: row for row in log.cases.iter_rows(named=True)}
    assert cases["t-1"]["customer"] == "Ann & Co" and cases["t-1"]["priority"] == 2
    assert cases["trace-2"]["priority"] == 1


def test_a_key_with_mixed_types_is_kept_as_text() -> None:
    body = (
        "<log><trace><string key='concept:name' value='c'/>"
        "<event><string key='concept:name' value='A'/><int key='n' value='3'/></event>"
        "<event><string key='concept:name' value='B'/><string key='n' value='three'/></event>"
        "</trace></log>"
    )
    log = read_xes(xes(body))
    assert log.events.get_column("n").to_list() == ["3", "three"]


def test_an_empty_log_is_fine() -> None:
    log = read_xes(xes("<log xmlns='http://www.xes-standard.org/'></log>"))
    assert log.event_count == 0 and log.case_count == 0


EXTRA = "<event><string key='concept:name' value='X'/><int key='k' value='1'/></event>"


def test_a_large_log_streams_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    from flowdesk.analytics import xes as module

    monkeypatch.setattr(module, "BATCH_CHARS", 50)
    monkeypatch.setattr(module, "CHUNK", 100)
    traces = "".join(
        f"<trace><string key='concept:name' value='c{i}'/>"
        + "".join(
            f"<event><string key='concept:name' value='A{j}'/>"
            f"<date key='time:timestamp' value='2025-01-01T00:0{j}:00Z'/></event>"
            for j in range(3)
        )
        + (
            "<event><string key='concept:name' value='X'/><int key='k' value='1'/></event>"
            if i == 9
            else ""
        )
        + "</trace>"
        for i in range(10)
    )
    log = read_xes(xes(f"<log>{traces}</log>"))
    assert log.event_count == 31 and log.case_count == 10
    assert log.events.get_column("k").drop_nulls().to_list() == [1]
    assert log.events.get_column("timestamp").null_count() == 1


@pytest.mark.parametrize(
    ("document", "message", "line"),
    [
        ("<log>\n<trace>\n<event>\n</trace></log>", "malformed XML", 5),
        ("<log><trace>\n<event><string key='x'/></event></trace></log>", "without key or value", 3),
        (
            "<log><trace>\n<event><string key='org:resource' value='a'/></event></trace></log>",
            "without a concept:name",
            3,
        ),
        (
            "<log>\n<event><string key='concept:name' value='A'/></event>\n</log>",
            "outside a <trace>",
            3,
        ),
        (
            "<log><trace>\n\n<event><string key='concept:name' value='A'/>"
            "<date key='time:timestamp' value='yesterday'/></event></trace></log>",
            "not an ISO 8601",
            4,
        ),
        ("<process>\n</process>", "an XES file has <log>", 2),
        (
            "<log><trace><event><string key='concept:name' value='A'/>\n"
            "<colour key='c' value='red'/></event></trace></log>",
            "unexpected <colour>",
            3,
        ),
        (
            "<log><trace>\n<string key='concept:name'/><event/></trace></log>",
            "without key or value",
            3,
        ),
    ],
)
def test_bad_logs_fail_with_a_line(document: str, message: str, line: int) -> None:
    """`line` counts the XML declaration that `xes()` puts on line 1."""
    with pytest.raises(ModelError, match=message) as caught:
        read_xes(xes(document), filename="bad.xes")
    assert caught.value.position is not None
    assert caught.value.position.file == "bad.xes"
    assert caught.value.position.line == line


XXE = """<?xml version="1.0"?>
<!-- a comment first -->
<!DOCTYPE log [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<log><trace><event><string key="concept:name" value="&secret;"/></event></trace></log>
"""
BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<log><trace><event><string key="concept:name" value="&lol3;"/></event></trace></log>
"""


@pytest.mark.parametrize(("document", "line"), [(XXE, 3), (BOMB, 2)])
def test_doctype_and_entities_are_refused_before_parsing(document: str, line: int) -> None:
    with pytest.raises(ModelError, match="DOCTYPE and ENTITY") as caught:
        read_xes(document.encode(), filename="evil.xes")
    assert caught.value.position is not None and caught.value.position.line == line


def test_a_gzipped_entity_bomb_is_refused_too() -> None:
    with pytest.raises(ModelError, match="DOCTYPE"):
        read_xes(gzip.compress(BOMB.encode()))


def test_an_undeclared_entity_is_malformed_not_resolved() -> None:
    body = "<log><trace><event><string key='concept:name' value='&ext;'/></event></trace></log>"
    with pytest.raises(ModelError, match="malformed XML"):
        read_xes(xes(body))


def test_missing_and_corrupt_files(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot read file"):
        read_xes(tmp_path / "nope.xes")
    broken = tmp_path / "broken.xes.gz"
    broken.write_bytes(gzip.compress(b"<log></log>")[:12])
    with pytest.raises(ModelError) as caught:
        read_xes(broken)
    assert caught.value.position is not None and caught.value.position.file == str(broken)
    empty = tmp_path / "empty.xes"
    empty.write_bytes(b"")
    with pytest.raises(ModelError):
        read_xes(empty)


def test_utf16_is_refused_rather_than_checked_blindly() -> None:
    document = "<?xml version='1.0' encoding='UTF-16'?>\n<!DOCTYPE log []><log/>"
    with pytest.raises(ModelError, match="UTF-8"):
        read_xes(document.encode("utf-16"))


def test_a_doctype_is_found_even_when_split_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    from flowdesk.analytics import xes as module

    monkeypatch.setattr(module, "CHUNK", 3)
    with pytest.raises(ModelError, match="DOCTYPE"):
        read_xes(XXE.encode())
    log = read_xes(
        xes(
            "<!-- fine -->\n<log><trace><event><string key='concept:name' "
            "value='A'/></event></trace></log>"
        )
    )
    assert log.event_count == 1
