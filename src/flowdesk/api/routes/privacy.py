"""Data-subject requests over HTTP: a customer's data as JSON, and erasure on request."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from flowdesk.api.routes.common import errors, ops_of
from flowdesk.api.security import require
from flowdesk.app import privacy
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal

router = APIRouter(prefix="/api/v1", tags=["privacy"])


class EraseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500, pattern=r"\S", examples=["GDPR art. 17"])


class Erased(BaseModel):
    identities: int
    contacts: int
    flows: int
    events: int


@router.get("/customers/{customer_id}/export", responses=errors(404))
def export_customer(
    customer_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.PRIVACY_ADMIN))],
) -> dict[str, Any]:
    """Everything held about the customer: record, identities, contacts (with what they
    said), cases, flow variables and the events of the log that name them."""
    return privacy.export_customer(principal, ops_of(request), customer_id)


@router.post("/customers/{customer_id}/erase", response_model=Erased, responses=errors(404, 409))
def erase_customer(
    customer_id: str,
    body: EraseIn,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.PRIVACY_ADMIN))],
) -> Erased:
    """Erase the customer: personal fields, identities, contact texts and payloads, flow
    variables and the data of their events are redacted; `customer.erased` records it. 409
    while the customer has an open case."""
    counts = privacy.erase_customer(principal, ops_of(request), customer_id, body.reason)
    return Erased(**counts)
