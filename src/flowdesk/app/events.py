"""Events from other systems into the event log: CloudEvents 1.0 in structured mode. The log
entry keeps the event's source and type; its data holds the CloudEvent's `data`, `subject`,
original `id` and extension attributes. The entry id is derived from (source, id), so the same
event sent again - a retrying producer - appends nothing. All or nothing: one invalid event
refuses the batch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.values import InvalidInput
from flowdesk.auth.roles import Permission
from flowdesk.core.cloudevents import CloudEventError, from_cloudevent
from flowdesk.core.events import NewEvent
from flowdesk.store.service_repo import append_new_events


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
    try:
        return from_cloudevent(raw, now, actor)
    except CloudEventError as error:
        raise _fail(index, str(error)) from None


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
