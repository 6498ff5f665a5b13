"""Messaging providers' webhooks in the providers' own formats (docs/channels.md): Twilio's
form-encoded messages and status callbacks (X-Twilio-Signature), Meta's WhatsApp Cloud API
subscription check and notifications (X-Hub-Signature-256). No API key: the signature is the
provider's credential, checked by the use case."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from flowdesk.api.routes.common import ops_of
from flowdesk.app import providers as use

router = APIRouter(prefix="/api/v1/providers", tags=["providers"])
TWIML = "application/xml"


async def raw_body(request: Request) -> bytes:
    """The body as sent: the providers sign its exact bytes (also used by the calls routes)."""
    return await request.body()


def called_url(request: Request) -> str:
    """The URL the provider called: FLOWDESK_PUBLIC_URL + path and query behind a proxy."""
    public = str(getattr(request.app.state.settings, "public_url", None) or "")
    if not public:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return public.rstrip("/") + request.url.path + query


def form_of(raw: bytes) -> list[tuple[str, str]]:
    return parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)


@router.post("/twilio/messages", response_class=Response)
def twilio_message(request: Request, raw: Annotated[bytes, Depends(raw_body)]) -> Response:
    """Twilio's incoming-message webhook (SMS and WhatsApp): answers empty TwiML, so Twilio
    sends nothing itself; Flowdesk's acknowledgement goes out through the Messages API."""
    signature = request.headers.get("x-twilio-signature")
    use.twilio_message(ops_of(request), called_url(request), form_of(raw), signature)
    return Response(use.EMPTY_TWIML, media_type=TWIML)


@router.post("/twilio/status", response_class=Response)
def twilio_status(request: Request, raw: Annotated[bytes, Depends(raw_body)]) -> Response:
    """Twilio's status callback of a message Flowdesk sent (queued ... delivered, failed)."""
    signature = request.headers.get("x-twilio-signature")
    use.twilio_status(ops_of(request), called_url(request), form_of(raw), signature)
    return Response(use.EMPTY_TWIML, media_type=TWIML)


@router.get("/whatsapp", response_class=PlainTextResponse)
def whatsapp_subscribe(request: Request) -> PlainTextResponse:
    """Meta's webhook verification: hub.challenge back when hub.verify_token is ours."""
    return PlainTextResponse(use.whatsapp_subscribe(ops_of(request), dict(request.query_params)))


@router.post("/whatsapp")
def whatsapp_notification(
    request: Request, raw: Annotated[bytes, Depends(raw_body)]
) -> JSONResponse:
    """A WhatsApp Cloud API notification (messages and statuses), answered 200 once checked."""
    signature = request.headers.get("x-hub-signature-256")
    report = use.whatsapp_notification(ops_of(request), raw, signature)
    return JSONResponse(report.to_dict())
