"""Events from other systems into the event log: CloudEvents 1.0 in structured mode. The log
entry keeps the event's source and type; its data holds the CloudEvent's `data`, `subject`,
original `id` and extension attributes. The entry id is derived from (source, id), so the same
event sent again - a retrying producer - appends nothing. All or nothing: one invalid event
refuses the batch."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.values import InvalidInput
from flowdesk.auth.roles import Permission
from flowdesk.core.events import NewEvent
from flowdesk.store.service_repo import append_new_events

_NAMESPACE = uuid.UUID("6f1e8a52-3c0e-4c1e-9a35-8f0f2f7d8e10")
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


@dataclass(frozen=True, slots=True)
class Appended:
    ids: list[str]  # event-log ids, in request order
    accepted: int
    duplicates: int


def _fail(index: int | None, message: str) -> InvalidInput:
    where = "" if index is None else f"event {index}: "
    return InvalidInput(
        f"{where}{message}", hint="see https://github.com/cloudevents/spec (structured mode)"
    )


def _to_event(raw: Any, index: int | None, now: datetime, actor: str) -> NewEvent:
    if not isinstance(raw, dict):
        raise _fail(index, "a CloudEvent must be a JSON object")
    if raw.get("specversion") != "1.0":
        raise _fail(index, f"specversion must be '1.0', got {raw.get('specversion')!r}")
    for attribute in ("id", "source", "type"):
        value = raw.get(attribute)
        if not isinstance(value, str) or not value:
            raise _fail(index, f"the required attribute '{attribute}' is missing or not a string")
    for attribute, limit in _LIMITS.items():
        value = raw.get(attribute)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            raise _fail(index, f"'{attribute}' must be a string of at most {limit} characters")
    extensions = {}
    for name, value in raw.items():
        if name in _KNOWN:
            continue
        if not _ATTRIBUTE.match(name):
            raise _fail(index, f"attribute name {name!r} is not valid (lower-case a-z, 0-9)")
        extensions[name] = value
    when = now
    if raw.get("time") is not None:
        text = raw["time"]
        try:
            when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        except ValueError:
            raise _fail(index, f"time {text!r} is not an RFC 3339 timestamp") from None
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
        id=str(uuid.uuid5(_NAMESPACE, f"{raw['source']}\n{raw['id']}")),
    )


def append(caller: Caller, ops: Ops, items: list[Any], *, batch: bool) -> Appended:
    """Check every CloudEvent (`items` as parsed JSON; a batch names each bad one by its index)
    and append the new ones to the log."""
    require(caller, Permission.EVENTS_WRITE)
    now = ops.clock.now()
    new_events = [
        _to_event(item, i if batch else None, now, caller.username) for i, item in enumerate(items)
    ]
    added = append_new_events(ops.store, new_events)
    return Appended([e.id or "" for e in new_events], sum(added), len(added) - sum(added))
