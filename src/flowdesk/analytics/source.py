"""Flowdesk's own event log as a mining table: process element events become activities.

The engine records `element.activated` / `element.completed` / `element.terminated` (also
spelled with underscores) for every BPMN element it runs. Each becomes one row: the activity is
the element's name (its id where it has none), the lifecycle is start / complete / ate_abort,
and the case is the process instance (or the Flowdesk case, on request). Gateways and sequence
flows are routing, not work, and are left out by default. The mapping is a pure function over
StoredEvents; `load_store_log` only feeds it from a Store.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from flowdesk.analytics.log import EventLog
from flowdesk.core.event_types import EventType
from flowdesk.core.events import StoredEvent

if TYPE_CHECKING:
    from flowdesk.store import Store

#: Event type -> XES lifecycle transition.
LIFECYCLE_OF = {
    EventType.ELEMENT_ACTIVATED: "start",
    EventType.ELEMENT_COMPLETED: "complete",
    EventType.ELEMENT_TERMINATED: "ate_abort",
    "element_activated": "start",
    "element_completed": "complete",
    "element_terminated": "ate_abort",
}
#: Element types that route tokens rather than do work; left out of process maps by default.
ROUTING_TYPES = frozenset(
    {
        "exclusiveGateway",
        "parallelGateway",
        "inclusiveGateway",
        "eventBasedGateway",
        "complexGateway",
        "sequenceFlow",
    }
)
CaseNotion = Literal["process_instance", "case"]
#: Columns carried along from the stored event (exported as XES attributes of these names).
CONTEXT_COLUMNS = (
    "case_id",
    "customer_id",
    "contact_id",
    "process_instance_id",
    "element_id",
    "element_type",
    "channel",
    "event_id",
)


def activity_name(event: StoredEvent) -> str | None:
    """The element's name from the event data, else its id."""
    data = event.data or {}
    for key in ("element_name", "name"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return event.element_id


def element_type(event: StoredEvent) -> str | None:
    value = (event.data or {}).get("element_type")
    return value if isinstance(value, str) else None


def events_to_log(
    events: Iterable[StoredEvent],
    *,
    case_notion: CaseNotion = "process_instance",
    skip_types: Collection[str] = ROUTING_TYPES,
) -> EventLog:
    """The mining table of the element events among `events` (others are ignored)."""
    columns: dict[str, list[Any]] = {
        name: []
        for name in (
            "case",
            "activity",
            "timestamp",
            "lifecycle",
            "resource",
            "department",
            *CONTEXT_COLUMNS,
        )
    }
    for event in events:
        lifecycle = LIFECYCLE_OF.get(event.type)
        if lifecycle is None:
            continue
        kind = element_type(event)
        if kind in skip_types:
            continue
        case = event.process_instance_id if case_notion == "process_instance" else event.case_id
        activity = activity_name(event)
        if case is None or activity is None:
            continue
        columns["case"].append(case)
        columns["activity"].append(activity)
        columns["timestamp"].append(event.time)
        columns["lifecycle"].append(lifecycle)
        columns["resource"].append(event.actor)
        columns["department"].append(event.department)
        columns["case_id"].append(event.case_id)
        columns["customer_id"].append(event.customer_id)
        columns["contact_id"].append(event.contact_id)
        columns["process_instance_id"].append(event.process_instance_id)
        columns["element_id"].append(event.element_id)
        columns["element_type"].append(kind)
        columns["channel"].append(event.channel)
        columns["event_id"].append(event.id)
    if not columns["case"]:
        return EventLog.empty()
    schema: dict[str, Any] = dict.fromkeys(columns, pl.String)
    schema["timestamp"] = pl.Datetime("us", "UTC")
    frame = pl.DataFrame(columns, schema=schema)
    return EventLog.from_frame(frame)


def load_store_log(
    store: Store,
    *,
    after: int = 0,
    case_notion: CaseNotion = "process_instance",
    skip_types: Collection[str] = ROUTING_TYPES,
) -> EventLog:
    """Read the store's event log (every event after sequence `after`) as a mining table."""
    return events_to_log(
        store.events.iterate(after), case_notion=case_notion, skip_types=skip_types
    )
