"""Flowdesk's own event log as a mining table: element events become activities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from flowdesk.analytics.dfg import directly_follows
from flowdesk.analytics.source import events_to_log, load_store_log
from flowdesk.analytics.variants import variant_counts
from flowdesk.core.events import NewEvent, StoredEvent
from flowdesk.store import Store

#: Made-up event types and partial payloads: this exercises the log, not the registry.
pytestmark = pytest.mark.usefixtures("loose_events")

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def element_events(instance: str, steps: list[tuple[str, str | None]], start: int) -> list[Any]:
    """activated + completed events for (element id, name) steps, a minute apart."""
    out: list[NewEvent] = []
    minute = start
    for element_id, name in steps:
        data: dict[str, Any] = {"element_type": "userTask"}
        if name:
            data["element_name"] = name
        for kind in ("element.activated", "element.completed"):
            out.append(
                NewEvent(
                    kind,
                    T0 + timedelta(minutes=minute),
                    data,
                    process_instance_id=instance,
                    case_id=f"case-{instance}",
                    element_id=element_id,
                    department="Back office",
                    actor="ann",
                )
            )
            minute += 1
    return out


def as_stored(events: list[NewEvent]) -> list[StoredEvent]:
    return [
        StoredEvent(
            seq=i,
            id=f"e{i}",
            type=e.type,
            time=e.time,
            data=e.data,
            case_id=e.case_id,
            contact_id=e.contact_id,
            customer_id=e.customer_id,
            process_instance_id=e.process_instance_id,
            element_id=e.element_id,
            actor=e.actor,
            department=e.department,
            channel=e.channel,
            schema_version=1,
            source="/flowdesk",
        )
        for i, e in enumerate(events, start=1)
    ]


def refund_events() -> list[NewEvent]:
    steps = [("check", "Check refund"), ("pay", None)]
    gateway = NewEvent(
        "element.completed",
        T0,
        {"element_type": "exclusiveGateway", "element_name": "Amount?"},
        process_instance_id="p1",
        element_id="gw",
    )
    other = NewEvent("contact.received", T0, {}, contact_id="ct-1")
    return [
        other,
        *element_events("p1", steps, 0),
        gateway,
        *element_events("p2", [("check", "Check refund")], 30),
        NewEvent(
            "element_completed",
            T0 + timedelta(hours=1),
            {},
            process_instance_id="p2",
            element_id="close",
        ),
    ]


def test_element_events_map_to_activities_and_lifecycle() -> None:
    log = events_to_log(as_stored(refund_events()))
    assert log.case_count == 2
    assert log.events.get_column("lifecycle").unique().sort().to_list() == ["complete", "start"]
    done = log.completions()
    assert variant_counts(done) == {("Check refund", "pay"): 1, ("Check refund", "close"): 1}
    row = done.events.row(0, named=True)
    assert (row["department"], row["resource"], row["case_id"]) == ("Back office", "ann", "case-p1")
    assert "Amount?" not in log.events.get_column("activity").to_list()  # gateways are routing


def test_the_case_notion_can_be_the_flowdesk_case() -> None:
    log = events_to_log(as_stored(refund_events()), case_notion="case")
    assert set(log.events.get_column("case").to_list()) == {"case-p1", "case-p2"}


def test_no_element_events_give_an_empty_log() -> None:
    only_contacts = [e for e in as_stored(refund_events()) if e.type == "contact.received"]
    assert events_to_log(only_contacts).event_count == 0


def test_load_from_a_store(tmp_path: Any) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'flowdesk.db'}")
    store.upgrade()
    try:
        with store.unit_of_work() as uow:
            uow.append(*refund_events())
        log = load_store_log(store)
        assert log.event_count == 7  # 2 steps x 2 + 1 step x 2 + close; no gateway, no contact
        assert directly_follows(log.completions()).counts() == {
            ("Check refund", "pay"): 1,
            ("Check refund", "close"): 1,
        }
    finally:
        store.close()
