"""Log entries as the engine sees them: one shape for Flowdesk's own events and CloudEvents.

A CloudEvent appended through `POST /api/v1/events` keeps its `data`, `subject` and extension
attributes inside the log entry's data; Flowdesk's own events carry their payload as data. Both
become the same FEEL context, so a rule reads `data.area` whichever way the event came in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


def context_of(
    event_id: str,
    event_type: str,
    source: str | None,
    time: datetime,
    data: Any,
    case_id: str | None,
    contact_id: str | None,
    customer_id: str | None,
    process_instance_id: str | None,
    department: str | None,
    channel: str | None,
) -> dict[str, Any]:
    """The FEEL context of a log entry, from its fields (the consumer decodes rows by position):
    type, source, subject, time, data and its subjects."""
    subject = None
    extensions: dict[str, Any] = {}
    if isinstance(data, dict) and "cloudevent_id" in data:
        subject = data.get("subject")
        extensions = data.get("extensions") or {}
        data = data.get("data")
    return {
        "id": event_id,
        "type": event_type,
        "source": source,
        "subject": subject,
        "time": time,
        "data": data,
        "extensions": extensions,
        "case_id": case_id,
        "contact_id": contact_id,
        "customer_id": customer_id,
        "process_instance_id": process_instance_id,
        "department": department,
        "channel": channel,
    }
