"""Log entries as the engine sees them: one shape for Flowdesk's own events and CloudEvents.

A CloudEvent appended through `POST /api/v1/events` keeps its `data`, `subject` and extension
attributes inside the log entry's data; Flowdesk's own events carry their payload as data. Both
become the same FEEL context, so a rule reads `data.area` whichever way the event came in.
"""

from __future__ import annotations

from typing import Any

from flowdesk.cep.engine import Event
from flowdesk.core.events import StoredEvent


def event_context(e: StoredEvent) -> dict[str, Any]:
    """The FEEL context of a log entry: type, source, subject, time, data and its subjects."""
    data: Any = e.data
    subject = None
    extensions: dict[str, Any] = {}
    if isinstance(data, dict) and "cloudevent_id" in data:
        subject = data.get("subject")
        extensions = data.get("extensions") or {}
        data = data.get("data")
    return {
        "id": e.id,
        "type": e.type,
        "source": e.source,
        "subject": subject,
        "time": e.time,
        "data": data,
        "extensions": extensions,
        "case_id": e.case_id,
        "contact_id": e.contact_id,
        "customer_id": e.customer_id,
        "process_instance_id": e.process_instance_id,
        "department": e.department,
        "channel": e.channel,
    }


def from_stored(e: StoredEvent) -> Event:
    return Event(e.id, e.type, e.time.timestamp(), event_context(e))
