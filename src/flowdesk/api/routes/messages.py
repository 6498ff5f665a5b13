"""Messages (correlated to one waiting instance, or buffered) and signals (broadcast)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from flowdesk.api.idempotency import body_fingerprint, idempotent
from flowdesk.api.routes.common import VariableName, errors, ops_of
from flowdesk.api.security import require
from flowdesk.app import messaging as use
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal

router = APIRouter(prefix="/api/v1", tags=["messages"])


class MessageIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    name: str = Field(min_length=1, max_length=300, examples=["payment-received"])
    correlation_key: str | int | None = Field(default=None, alias="correlationKey")
    variables: dict[VariableName, Any] = Field(default_factory=dict)


class SignalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=300)
    variables: dict[VariableName, Any] = Field(default_factory=dict)


class DeliveredOut(BaseModel):
    instances: list[str] = Field(description="Instances that received it (or were started)")
    buffered: bool = Field(
        default=False, description="No receiver yet: kept for the message TTL for one"
    )
    held: bool = Field(
        default=False,
        description="One trigger of a parallel multiple start event: kept until all of that "
        "event's triggers came, then one instance starts",
    )


@router.post("/messages", response_model=DeliveredOut, responses=errors(409))
def correlate(
    body: MessageIn,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.MESSAGES_SEND))],
) -> Response:
    """Correlate a message by name and correlation key: to a waiting instance, a message start
    event, or - with no receiver yet - buffered until one subscribes."""
    request_hash = body_fingerprint(body)
    ops = ops_of(request)

    def produce() -> tuple[int, Any]:
        got = use.correlate(principal, ops, body.name, body.correlation_key, body.variables)
        buffered = not got.instances and not got.held
        return 200, DeliveredOut(
            instances=got.instances, buffered=buffered, held=got.held
        ).model_dump()

    return idempotent(request, principal, request_hash, produce)


@router.post("/signals", response_model=DeliveredOut, responses=errors(409))
def broadcast(
    body: SignalIn,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.MESSAGES_SEND))],
) -> Response:
    """Broadcast a signal to every waiting instance and signal start event."""
    request_hash = body_fingerprint(body)
    ops = ops_of(request)

    def produce() -> tuple[int, Any]:
        got = use.broadcast(principal, ops, body.name, body.variables)
        return 200, DeliveredOut(instances=got.instances, held=got.held).model_dump()

    return idempotent(request, principal, request_hash, produce)
