"""Situations the event patterns raised: active and recent, with customers and actions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from flowdesk.api.routes.common import ops_of
from flowdesk.api.security import require
from flowdesk.app import situations as use
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal

router = APIRouter(prefix="/api/v1", tags=["situations"])


@router.get("/situations")
async def list_situations(
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.EVENTS_READ))],
    status: Annotated[
        Literal["active", "cleared"] | None, Query(description="active or cleared")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Active situations first, then the most recently updated, each with the affected
    customers, the contacts held on it and the actions taken (once each, by key)."""
    ops = ops_of(request)
    found = await run_in_threadpool(
        lambda: use.situations(principal, ops, status=status, limit=limit)
    )
    return {"situations": found}
