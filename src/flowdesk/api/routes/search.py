"""Search across customers and cases (`flowdesk.app.search`): only what the caller may see."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from flowdesk.api.routes.common import errors, ops_of
from flowdesk.api.security import require
from flowdesk.app import search as app_search
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal

router = APIRouter(prefix="/api/v1", tags=["search"])


class CaseHit(BaseModel):
    reference: str
    customer_id: str
    customer_name: str | None = None
    reason: str
    process_key: str | None = None
    status: str
    channel: str | None = None
    opened_at: datetime
    work_item_id: str | None = None


class Identity(BaseModel):
    kind: str
    value: str


class CustomerHit(BaseModel):
    id: str
    name: str | None = None
    segment: str | None = None
    identities: list[Identity] = []
    cases: list[CaseHit] = []


class SearchOut(BaseModel):
    query: str
    customers: list[CustomerHit]
    cases: list[CaseHit]


def _case(row: dict[str, object]) -> CaseHit:
    return CaseHit.model_validate({**row, "work_item_id": row.get("item_id")})


@router.get("/search", response_model=SearchOut, responses=errors())
def search(
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.WORK_READ))],
    q: Annotated[str, Query(min_length=2, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchOut:
    """Customers by name, email, phone or account number and cases by reference, reason or
    what was said, limited to those the caller may see (a case through its work items'
    visibility, a customer through their cases). 422 for fewer than two characters."""
    found = app_search.search(principal, ops_of(request), q, limit=limit)
    return SearchOut(
        query=found.query,
        customers=[
            CustomerHit(
                id=str(c["id"]),
                name=c["name"] or None,
                segment=c["segment"],
                identities=[Identity(**i) for i in c["identities"]],
                cases=[_case(x) for x in c["cases"]],
            )
            for c in found.customers
        ],
        cases=[_case(c) for c in found.cases],
    )
