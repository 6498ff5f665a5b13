"""Calls: a CTI's events in Flowdesk's format, Twilio Voice's callbacks, and the agent's
screen-pop (docs/channels.md, "Voice")."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from flowdesk.api.routes import providers as provider_routes
from flowdesk.api.routes.common import ops_of
from flowdesk.api.security import require
from flowdesk.app import calls as use
from flowdesk.app.providers import EMPTY_TWIML
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal

router = APIRouter(prefix="/api/v1", tags=["calls"])


Text = Annotated[str | int, Field(min_length=1)]  # longer text is cut at 4,000 characters


class _CallEvent(BaseModel):
    """The fields every call event may carry (flowdesk.channels.voice.parse_call_event)."""

    model_config = ConfigDict(extra="allow")

    call_id: Text
    caller: Text | None = None
    agent: Text | None = None
    from_agent: Text | None = None
    duration_s: int | None = Field(default=None, ge=0)
    outcome: Text | None = None
    transcript: Text | None = None
    recording_url: Text | None = None
    ivr_choice: Text | None = None


class CallOffered(_CallEvent):
    event: Literal["call.offered"]
    caller: Text


class CallAnswered(_CallEvent):
    event: Literal["call.answered", "call.transferred"]
    agent: Text


class CallEnded(_CallEvent):
    event: Literal["call.ended"]


class CallVoicemail(_CallEvent):
    event: Literal["call.voicemail"]
    caller: Text
    transcript: Text


#: The body as OpenAPI says it: which fields an event needs depends on the event.
CALL_EVENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        model.model_json_schema()
                        for model in (CallOffered, CallAnswered, CallEnded, CallVoicemail)
                    ]
                }
            }
        },
    }
}


@router.post("/calls/events", openapi_extra=CALL_EVENT_BODY)
def call_event(
    request: Request,
    raw: Annotated[bytes, Depends(provider_routes.raw_body)],
    principal: Annotated[Principal, Depends(require(Permission.CONTACTS_INGEST))],
) -> JSONResponse:
    """One call event: offered, answered, transferred, ended or voicemail."""
    return JSONResponse(use.call_event(principal, ops_of(request), raw).to_dict())


@router.post("/providers/twilio/voice", response_class=Response)
def twilio_voice(
    request: Request, raw: Annotated[bytes, Depends(provider_routes.raw_body)]
) -> Response:
    """Twilio Voice status callbacks (and recording transcriptions) of the customer's call and
    of the legs dialled to agents' clients; answered with empty TwiML."""
    signature = request.headers.get("x-twilio-signature")
    form = provider_routes.form_of(raw)
    use.twilio_voice(ops_of(request), provider_routes.called_url(request), form, signature)
    return Response(EMPTY_TWIML, media_type="application/xml")


@router.get("/me/screen-pop")
def screen_pop(
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.WORK_READ))],
    after: Annotated[int, Query(ge=-1)] = -1,
) -> dict[str, Any]:
    """Calls the caller answered after event `after` (-1: none, only the cursor), each with
    the URL of its case's open step; the desktop polls this and opens the page."""
    return use.screen_pop(principal, ops_of(request), after)
