"""XES export (round trip, escaping, gzip) and OCEL 2.0 JSON export of Flowdesk's own log."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from polars.testing import assert_frame_equal

from flowdesk.analytics import export
from flowdesk.analytics.export import ocel_from_events, write_ocel_json, write_xes
from flowdesk.analytics.log import EventLog
from flowdesk.analytics.xes import read_xes
from flowdesk.core.events import StoredEvent
from flowdesk.core.xmlsafe import parse_xml

Oracle = Callable[[str, Path], dict[str, Any]]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("fixture", ["refunds.xes", "lifecycle.xes", "attributes.xes"])
@pytest.mark.parametrize("name", ["out.xes", "out.xes.gz"])
def test_xes_round_trip(xes_dir: Path, tmp_path: Path, fixture: str, name: str) -> None:
    log = read_xes(xes_dir / fixture)
    target = tmp_path / name
    assert write_xes(log, target) == log.event_count
    assert (target.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    again = read_xes(target)
    assert_frame_equal(again.events, log.events)
    assert_frame_equal(again.cases, log.cases)


def test_xes_export_escapes_text_and_is_well_formed(tmp_path: Path) -> None:
    tricky = "A <\"quoted\"> & 'apostrophe'\nnew line"
    log = EventLog.from_records(
        [
            {"case": "c&1", "activity": tricky, "timestamp": T0, "note": "x < y"},
            {"case": "c&1", "activity": "B", "timestamp": T0 + timedelta(seconds=1.5)},
        ]
    )
    target = tmp_path / "tricky.xes"
    write_xes(log, target)
    root = parse_xml(target)  # the strict safe parser accepts it
    assert root.tag == "{http://www.xes-standard.org/}log"
    again = read_xes(target)
    assert again.events.get_column("activity").to_list() == [tricky, "B"]
    assert again.events.get_column("case").to_list() == ["c&1", "c&1"]
    assert (
        again.events.get_column("timestamp").to_list()
        == log.events.get_column("timestamp").to_list()
    )


def test_large_exports_are_written_in_slices_that_keep_cases_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "SLICE_ROWS", 4)
    records = [
        {"case": f"c{c}", "activity": f"A{i}", "timestamp": T0 + timedelta(minutes=i)}
        for c in range(7)
        for i in range(c % 3 + 1)
    ]
    log = EventLog.from_records(records)
    target = tmp_path / "sliced.xes"
    write_xes(log, target)
    text = target.read_text()
    assert text.count("<trace>") == 7
    assert_frame_equal(read_xes(target).events, log.events)


def test_a_generated_log_exported_by_flowdesk_reads_back_in_pm4py(
    xes_dir: Path, tmp_path: Path, ask_pm4py: Oracle
) -> None:
    log = read_xes(xes_dir / "refunds.xes")
    target = tmp_path / "refunds-again.xes.gz"
    write_xes(log, target)
    with gzip.open(target, "rt") as handle:
        assert handle.read(5) == "<?xml"
    expected = json.loads((xes_dir / "expected_pm4py.json").read_text())
    assert ask_pm4py("--log", target) == expected["logs"]["refunds.xes"]


def stored(seq: int, type: str, **fields: Any) -> StoredEvent:
    values: dict[str, Any] = {
        "seq": seq,
        "id": f"ev-{seq}",
        "type": type,
        "time": T0 + timedelta(minutes=seq),
        "data": {},
        "case_id": None,
        "contact_id": None,
        "customer_id": None,
        "process_instance_id": None,
        "element_id": None,
        "actor": None,
        "department": None,
        "channel": None,
        "schema_version": 1,
        "source": "/flowdesk",
    }
    values.update(fields)
    return StoredEvent(**values)


def flowdesk_events() -> list[StoredEvent]:
    subject = {"case_id": "case-1", "customer_id": "cust-1", "process_instance_id": "pi-1"}
    return [
        stored(1, "contact.received", contact_id="ct-1", customer_id="cust-1", channel="email"),
        stored(2, "case.opened", case_id="case-1", customer_id="cust-1", contact_id="ct-1"),
        stored(
            3,
            "element.activated",
            element_id="check",
            data={"element_name": "Check refund", "work_item_id": "wi-1"},
            **subject,
        ),
        stored(
            4,
            "element.completed",
            element_id="check",
            actor="ann",
            department="Back office",
            data={"element_name": "Check refund", "work_item_id": "wi-1", "amount": 120.5},
            **subject,
        ),
        stored(5, "element.completed", element_id="pay", data={"amount": 7}, **subject),
    ]


def test_ocel_document_structure() -> None:
    document = ocel_from_events(flowdesk_events())
    assert set(document) == {"objectTypes", "eventTypes", "objects", "events"}
    object_types = {t["name"] for t in document["objectTypes"]}
    assert object_types == {"customer", "case", "contact", "work item", "process instance"}
    objects = {o["id"]: o for o in document["objects"]}
    assert set(objects) == {
        "customer:cust-1",
        "case:case-1",
        "contact:ct-1",
        "work-item:wi-1",
        "process-instance:pi-1",
    }
    assert {"objectId": "customer:cust-1", "qualifier": "of customer"} in objects["case:case-1"][
        "relationships"
    ]
    events = {e["id"]: e for e in document["events"]}
    assert events["ev-4"]["type"] == "Check refund"
    assert events["ev-5"]["type"] == "pay"  # no name: the element id
    assert events["ev-1"]["type"] == "contact.received"
    assert events["ev-4"]["time"] == "2026-03-02T09:04:00Z"
    related = {r["objectId"] for r in events["ev-4"]["relationships"]}
    assert related == {"case:case-1", "customer:cust-1", "process-instance:pi-1", "work-item:wi-1"}
    every_object = set(objects)
    for event in document["events"]:
        assert {r["objectId"] for r in event["relationships"]} <= every_object
        declared = {
            a["name"]
            for t in document["eventTypes"]
            if t["name"] == event["type"]
            for a in t["attributes"]
        }
        assert {a["name"] for a in event["attributes"]} <= declared
    check = next(t for t in document["eventTypes"] if t["name"] == "Check refund")
    types = {a["name"]: a["type"] for a in check["attributes"]}
    assert types["amount"] == "float" and types["lifecycle"] == "string"


def test_ocel_attribute_of_mixed_types_is_written_as_text() -> None:
    events = [
        stored(1, "note.added", data={"value": 3}),
        stored(2, "note.added", data={"value": "three"}),
    ]
    document = ocel_from_events(events)
    (note,) = document["eventTypes"]
    assert note["attributes"] == [
        {"name": "flowdesk:type", "type": "string"},
        {"name": "value", "type": "string"},
    ]
    assert [e["attributes"][1]["value"] for e in document["events"]] == ["3", "three"]


def test_ocel_json_is_read_by_pm4py(tmp_path: Path, ask_pm4py: Oracle) -> None:
    target = tmp_path / "flowdesk.jsonocel"
    assert write_ocel_json(flowdesk_events(), target) == 5
    summary = ask_pm4py("--ocel", target)
    assert summary["events"] == 5
    assert summary["objects"] == 5
    assert summary["relations"] == 2 + 3 + 4 + 4 + 3
    assert summary["object_types"] == sorted(
        ["customer", "case", "contact", "work item", "process instance"]
    )
    assert "Check refund" in summary["activities"]
