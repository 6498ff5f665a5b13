"""Events in: CloudEvents 1.0 in structured JSON mode, one or a batch, appended to the log.

The log entry keeps the event's source and type; its data holds the CloudEvent's `data`,
`subject`, original `id` and extension attributes. The entry id is derived from (source, id),
so sending the same event again - a retrying producer - appends nothing.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from flowdesk.api.routes.common import InvalidInput, errors, store_of
from flowdesk.api.security import require
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal
from flowdesk.core.events import NewEvent
from flowdesk.store.service_repo import append_new_events

router = APIRouter(prefix="/api/v1", tags=["events"])

SINGLE = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
MAX_BATCH = 1000
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


class EventsAccepted(BaseModel):
    accepted: int = Field(description="Events appended to the log")
    duplicates: int = Field(description="Events already in the log (same source and id)")
    ids: list[str] = Field(description="Event-log ids, in request order")


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


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 event in structured JSON mode (extension attributes allowed)."""

    model_config = {"extra": "allow"}

    specversion: str = Field(examples=["1.0"])
    id: str = Field(max_length=200)
    source: str = Field(max_length=200, examples=["/crm"])
    type: str = Field(max_length=100, examples=["com.example.order.placed"])
    subject: str | None = None
    time: datetime | None = None
    datacontenttype: str | None = None
    dataschema: str | None = None
    data: Any = None


_CLOUDEVENT_SCHEMA = CloudEvent.model_json_schema()

_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            SINGLE: {"schema": _CLOUDEVENT_SCHEMA},
            BATCH: {
                "schema": {
                    "type": "array",
                    "items": _CLOUDEVENT_SCHEMA,
                    "minItems": 1,
                    "maxItems": MAX_BATCH,
                }
            },
        },
    }
}


@router.post(
    "/events",
    response_model=EventsAccepted,
    status_code=202,
    responses=errors(415),
    openapi_extra=_BODY_DOC,
)
async def receive_events(
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.EVENTS_WRITE))],
) -> EventsAccepted:
    """Append CloudEvents to the event log: `application/cloudevents+json` for one event,
    `application/cloudevents-batch+json` for an array. All or nothing: one invalid event
    rejects the request. Duplicates (same source and id) are accepted and appended once."""
    from starlette.concurrency import run_in_threadpool

    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in (SINGLE, BATCH, "application/json"):
        raise HTTPException(
            415,
            f"content type {media or 'none'!r} is not accepted: send {SINGLE} (one event) "
            f"or {BATCH} (an array)",
        )
    raw = await request.body()
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the body is not valid JSON: {exc}") from None
    if media == BATCH or (media == "application/json" and isinstance(parsed, list)):
        if not isinstance(parsed, list):
            raise InvalidInput(f"a {BATCH} body must be a JSON array of events")
        if not parsed or len(parsed) > MAX_BATCH:
            raise InvalidInput(f"a batch holds 1 to {MAX_BATCH} events, got {len(parsed)}")
        items: list[Any] = parsed
        indexed = True
    else:
        items = [parsed]
        indexed = False
    now = request.app.state.clock.now()
    new_events = [
        _to_event(item, i if indexed else None, now, principal.username)
        for i, item in enumerate(items)
    ]
    added = await run_in_threadpool(append_new_events, store_of(request), new_events)
    return EventsAccepted(
        accepted=sum(added),
        duplicates=len(added) - sum(added),
        ids=[e.id or "" for e in new_events],
    )
