"""Events in: CloudEvents 1.0 in structured JSON mode, one or a batch, appended to the log.

The log entry keeps the event's source and type; its data holds the CloudEvent's `data`,
`subject`, original `id` and extension attributes. The entry id is derived from (source, id),
so sending the same event again - a retrying producer - appends nothing.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from flowdesk.api.routes.common import InvalidInput, errors, ops_of
from flowdesk.api.security import require
from flowdesk.app import events as use
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal

router = APIRouter(prefix="/api/v1", tags=["events"])

SINGLE = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
MAX_BATCH = 1000


class EventsAccepted(BaseModel):
    accepted: int = Field(description="Events appended to the log")
    duplicates: int = Field(description="Events already in the log (same source and id)")
    ids: list[str] = Field(description="Event-log ids, in request order")


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 event in structured JSON mode (extension attributes allowed)."""

    model_config = {"extra": "allow"}

    specversion: Literal["1.0"] = Field(examples=["1.0"])
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
    ops = ops_of(request)
    done = await run_in_threadpool(lambda: use.append(principal, ops, items, batch=indexed))
    return EventsAccepted(accepted=done.accepted, duplicates=done.duplicates, ids=done.ids)
