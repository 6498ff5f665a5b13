"""Deployed experience flows and the contact-reason catalog, each with its process owner (the
person or department that answers for the flow end to end; `owner` in flow.yaml)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from flowdesk.api.routes.common import errors, ops_of
from flowdesk.api.security import require
from flowdesk.app import experiences as use
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal

router = APIRouter(prefix="/api/v1", tags=["experiences"])


class FlowOut(BaseModel):
    name: str
    title: str | None
    version: str | None
    process_key: str
    owner: str | None
    reasons: list[str]
    bundle_id: str
    deployed_at: datetime


class ReasonOut(BaseModel):
    reason: str
    name: str
    description: str | None
    channels: list[str]
    process_key: str
    bundle: str
    owner: str | None


@router.get("/experiences", response_model=list[FlowOut], responses=errors())
def list_flows(
    request: Request, caller: Annotated[Principal, Depends(require(Permission.MODELS_READ))]
) -> list[FlowOut]:
    """Every deployed experience flow (the latest deployment of each bundle) and its owner."""
    return [FlowOut(**asdict(f)) for f in use.list_flows(caller, ops_of(request))]


@router.get("/experiences/catalog", response_model=list[ReasonOut], responses=errors())
def reason_catalog(
    request: Request, caller: Annotated[Principal, Depends(require(Permission.MODELS_READ))]
) -> list[ReasonOut]:
    """Contact reasons, the flow that serves each, and that flow's owner."""
    return [ReasonOut(**entry.to_dict()) for entry in use.reason_catalog(caller, ops_of(request))]
