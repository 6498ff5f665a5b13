"""Event-log entries as CloudEvents 1.0 (structured JSON mode), the format integrations expect.

Flowdesk's subject ids travel as CloudEvents extension attributes (lower-case alphanumeric names,
as the spec requires), so a consumer can route on them without parsing `data`.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from flowdesk.core.event_types import CLOUDEVENT_PREFIX, cloudevent_type
from flowdesk.core.events import NewEvent, StoredEvent

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


#: Entry ids of events from other systems: uuid5 of "source\nid" in this namespace.
_INBOUND = uuid.UUID("6f1e8a52-3c0e-4c1e-9a35-8f0f2f7d8e10")
_ATTRIBUTE = re.compile(r"^[a-z0-9]{1,20}$")
_KNOWN = {
    "specversion",
    "id",
    "source",
    "type",
    "subject",
    "time",
    "datacontenttype",
    "dataschema",
    "data",
    "data_base64",
}
_LIMITS = {"id": 200, "source": 200, "type": 100, "subject": 500}


class CloudEventError(ValueError):
    """What is wrong with an inbound CloudEvent, in words for its sender."""


def from_cloudevent(raw: Any, now: datetime, actor: str) -> NewEvent:
    """A CloudEvent (structured mode, parsed JSON) as the log entry `POST /api/v1/events`
    appends: its source and type kept, its `data`, `subject`, original id and extension
    attributes inside the entry's data, the entry id derived from (source, id) so the same
    event sent again appends nothing. `now` stands in for a missing `time`."""
    if not isinstance(raw, dict):
        raise CloudEventError("a CloudEvent must be a JSON object")
    if raw.get("specversion") != "1.0":
        raise CloudEventError(f"specversion must be '1.0', got {raw.get('specversion')!r}")
    for attribute in ("id", "source", "type"):
        value = raw.get(attribute)
        if not isinstance(value, str) or not value:
            missing = f"the required attribute '{attribute}' is missing or not a string"
            raise CloudEventError(missing)
    for attribute, limit in _LIMITS.items():
        value = raw.get(attribute)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            raise CloudEventError(f"'{attribute}' must be a string of at most {limit} characters")
    extensions = {}
    for name, value in raw.items():
        if name in _KNOWN:
            continue
        if not _ATTRIBUTE.match(name):
            raise CloudEventError(f"attribute name {name!r} is not valid (lower-case a-z, 0-9)")
        extensions[name] = value
    when = now
    if raw.get("time") is not None:
        text = raw["time"]
        try:
            when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        except ValueError:
            raise CloudEventError(f"time {text!r} is not an RFC 3339 timestamp") from None
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    data: dict[str, Any] = {"cloudevent_id": raw["id"]}
    for optional in ("subject", "datacontenttype", "dataschema"):
        if raw.get(optional) is not None:
            data[optional] = raw[optional]
    if "data" in raw:
        data["data"] = raw["data"]
    if "data_base64" in raw:
        data["data_base64"] = raw["data_base64"]
    if extensions:
        data["extensions"] = extensions
    return NewEvent(
        type=raw["type"],
        time=when,
        data=data,
        source=raw["source"],
        actor=actor,
        id=str(uuid.uuid5(_INBOUND, f"{raw['source']}\n{raw['id']}")),
    )
