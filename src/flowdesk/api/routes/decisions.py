"""Evaluate a deployed DMN decision."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from flowdesk.api.routes.common import VariableName, errors, ops_of
from flowdesk.api.security import require
from flowdesk.app import decisions as use
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal

router = APIRouter(prefix="/api/v1", tags=["decisions"])


class EvaluateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inputs: dict[VariableName, Any] = Field(
        default_factory=dict, examples=[{"Age": 30, "Risk": "Low"}]
    )


class DiagnosticOut(BaseModel):
    message: str
    expression: str | None = None
    severity: str


class EvaluateOut(BaseModel):
    decision: str
    value: Any = Field(description="The decision's value (FEEL value as JSON)")
    diagnostics: list[DiagnosticOut]


@router.post("/decisions/{key}/evaluate", response_model=EvaluateOut, responses=errors(404))
def evaluate(
    key: str,
    request: Request,
    caller: Annotated[Principal, Depends(require(Permission.DECISIONS_EVALUATE))],
    body: EvaluateIn | None = None,
) -> EvaluateOut:
    """Evaluate the newest deployed decision with this id or name. Runtime problems do not fail
    the call: they make a value null and are listed in `diagnostics`."""
    result = use.evaluate(caller, ops_of(request), key, body.inputs if body else None)
    return EvaluateOut(
        decision=result.decision,
        value=result.value,
        diagnostics=[DiagnosticOut(**d) for d in result.diagnostics],
    )
