"""Event-log entries as CloudEvents 1.0 (structured JSON mode), the format integrations expect.

Flowdesk's subject ids travel as CloudEvents extension attributes (lower-case alphanumeric names,
as the spec requires), so a consumer can route on them without parsing `data`.
"""

from __future__ import annotations

from typing import Any

from flowdesk.core.event_types import CLOUDEVENT_PREFIX, cloudevent_type
from flowdesk.core.events import StoredEvent

TYPE_PREFIX = CLOUDEVENT_PREFIX

_EXTENSIONS = {
    "case_id": "caseid",
    "contact_id": "contactid",
    "customer_id": "customerid",
    "process_instance_id": "processinstanceid",
    "element_id": "elementid",
    "actor": "actor",
    "department": "department",
    "channel": "channel",
}


def to_cloudevent(event: StoredEvent) -> dict[str, Any]:
    out: dict[str, Any] = {
        "specversion": "1.0",
        "id": event.id,
        "source": event.source,
        "type": cloudevent_type(event.type),
        "time": event.time.isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "dataschema": f"urn:flowdesk:event:{event.type}:v{event.schema_version}",
        # The CloudEvents "sequence" extension: a string, ordered lexicographically.
        "sequence": f"{event.seq:020d}",
        "sequencetype": "Integer",
    }
    subject = event.case_id or event.process_instance_id or event.contact_id
    if subject:
        out["subject"] = subject
    for field, attribute in _EXTENSIONS.items():
        value = getattr(event, field)
        if value is not None:
            out[attribute] = value
    out["data"] = event.data
    return out
