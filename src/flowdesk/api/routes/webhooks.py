"""Webhook subscriptions and their delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from flowdesk.api.idempotency import body_fingerprint, idempotent
from flowdesk.api.routes.common import errors, store_of
from flowdesk.api.security import require
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal
from flowdesk.webhooks import subscriptions
from flowdesk.webhooks.delivery import SIGNATURE_HEADER

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


class WebhookIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    url: str = Field(min_length=1, max_length=2000, examples=["https://crm.example.com/hook"])
    event_types: list[str] = Field(
        alias="eventTypes",
        min_length=1,
        max_length=100,
        examples=[["process.completed", "work_item.*"]],
        description="Event types; 'x.*' for a prefix, '*' for every event",
    )
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=200,
        description=f"Signs each delivery ({SIGNATURE_HEADER}: sha256=<hex HMAC>); "
        "generated when omitted",
    )
    description: str | None = Field(default=None, max_length=500)


class WebhookOut(BaseModel):
    id: str
    url: str
    event_types: list[str]
    description: str | None
    active: bool
    created_at: datetime
    created_by: str | None


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Shown once: verify the signature header with it")


class DeliveryOut(BaseModel):
    id: str
    event_id: str
    event_seq: int
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


def _out(sub: subscriptions.Subscription) -> WebhookOut:
    return WebhookOut(**{k: getattr(sub, k) for k in WebhookOut.model_fields})


@router.post("", response_model=WebhookCreated, status_code=201, responses=errors(409))
def create_webhook(
    body: WebhookIn,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.WEBHOOKS_MANAGE))],
) -> Response:
    """Subscribe a URL to event types. Each matching event-log entry is POSTed to it as a
    CloudEvent, signed, retried with exponential backoff until it answers 2xx."""
    request_hash = body_fingerprint(body)
    store = store_of(request)

    def produce() -> tuple[int, Any]:
        sub = subscriptions.create(
            store,
            request.app.state.clock,
            url=body.url,
            event_types=body.event_types,
            secret=body.secret,
            description=body.description,
            actor=principal.username,
        )
        out = WebhookCreated(**_out(sub).model_dump(), secret=sub.secret)
        return 201, out.model_dump(mode="json")

    return idempotent(request, principal, request_hash, produce)


@router.get("", response_model=list[WebhookOut], responses=errors())
def list_webhooks(
    request: Request, _: Annotated[Principal, Depends(require(Permission.WEBHOOKS_MANAGE))]
) -> list[WebhookOut]:
    return [_out(s) for s in subscriptions.active(store_of(request))]


@router.get("/{webhook_id}", response_model=WebhookOut, responses=errors(404))
def get_webhook(
    webhook_id: str,
    request: Request,
    _: Annotated[Principal, Depends(require(Permission.WEBHOOKS_MANAGE))],
) -> WebhookOut:
    return _out(subscriptions.get(store_of(request), webhook_id))


@router.delete("/{webhook_id}", status_code=204, responses=errors(404))
def delete_webhook(
    webhook_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.WEBHOOKS_MANAGE))],
) -> Response:
    """Stop deliveries to this subscription; its delivery log stays readable."""
    subscriptions.delete(
        store_of(request), request.app.state.clock, webhook_id, actor=principal.username
    )
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryOut], responses=errors(404))
def list_deliveries(
    webhook_id: str,
    request: Request,
    _: Annotated[Principal, Depends(require(Permission.WEBHOOKS_MANAGE))],
    status: Literal["pending", "delivered", "failed", "cancelled"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[DeliveryOut]:
    """The delivery log, newest event first: attempts, last status code and error."""
    found = subscriptions.deliveries(
        store_of(request), webhook_id, status=status, limit=limit, offset=offset
    )
    return [DeliveryOut(**{k: getattr(d, k) for k in DeliveryOut.model_fields}) for d in found]
