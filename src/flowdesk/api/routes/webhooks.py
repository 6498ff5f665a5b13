"""Webhook subscriptions and their delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from flowdesk.api.idempotency import body_fingerprint, idempotent
from flowdesk.api.routes.common import errors, ops_of
from flowdesk.api.security import require
from flowdesk.app import webhooks
from flowdesk.app.context import Ops
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal

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
        description=f"Signs each delivery ({webhooks.SIGNATURE_HEADER}: sha256=<hex HMAC>); "
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


AppOps = Annotated[Ops, Depends(ops_of)]


def _out(sub: webhooks.Subscription) -> WebhookOut:
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
    ops = ops_of(request)

    def produce() -> tuple[int, Any]:
        sub = webhooks.create_webhook(
            principal,
            ops,
            url=body.url,
            event_types=body.event_types,
            secret=body.secret,
            description=body.description,
        )
        out = WebhookCreated(**_out(sub).model_dump(), secret=sub.secret)
        return 201, out.model_dump(mode="json")

    return idempotent(request, principal, request_hash, produce)


@router.get("", response_model=list[WebhookOut], responses=errors())
def list_webhooks(
    ops: AppOps, caller: Annotated[Principal, Depends(require(Permission.WEBHOOKS_MANAGE))]
) -> list[WebhookOut]:
    return [_out(s) for s in webhooks.list_webhooks(caller, ops)]


@router.get("/{webhook_id}", response_model=WebhookOut, responses=errors(404))
def get_webhook(
    webhook_id: str,
    ops: AppOps,
    caller: Annotated[Principal, Depends(require(Permission.WEBHOOKS_MANAGE))],
) -> WebhookOut:
    return _out(webhooks.get_webhook(caller, ops, webhook_id))


@router.delete("/{webhook_id}", status_code=204, responses=errors(404))
def delete_webhook(
    webhook_id: str,
    ops: AppOps,
    principal: Annotated[Principal, Depends(require(Permission.WEBHOOKS_MANAGE))],
) -> Response:
    """Stop deliveries to this subscription; its delivery log stays readable."""
    webhooks.delete_webhook(principal, ops, webhook_id)
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryOut], responses=errors(404))
def list_deliveries(
    webhook_id: str,
    ops: AppOps,
    caller: Annotated[Principal, Depends(require(Permission.WEBHOOKS_MANAGE))],
    status: Literal["pending", "delivered", "failed", "cancelled"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[DeliveryOut]:
    """The delivery log, newest event first: attempts, last status code and error."""
    found = webhooks.deliveries(caller, ops, webhook_id, status=status, limit=limit, offset=offset)
    return [DeliveryOut(**{k: getattr(d, k) for k in DeliveryOut.model_fields}) for d in found]
