"""Evaluate a deployed DMN decision."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from flowdesk.api.routes.common import VariableName, errors, ops_of
from flowdesk.api.security import require
from flowdesk.app import decisions as use
from flowdesk.app import nba
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


# -- next best action (flowdesk.app.nba) -------------------------------------------------------
class NextBestActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(min_length=1, max_length=64)
    channel: Literal["agent", "email", "sms", "web"] = Field(
        examples=["agent"], description="The channel the actions are for (flowdesk.nba.catalog)"
    )
    context: dict[str, Any] = Field(
        default_factory=dict, description="More facts about the customer (products, plan ...)"
    )
    limit: int = Field(default=3, ge=1, le=20)
    case_id: str | None = None


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision_id: str = Field(min_length=1, max_length=36)
    outcome: Literal["accepted", "declined"] = Field(
        examples=["accepted"], description="accepted or declined (ignored comes by time-out)"
    )


@router.post("/decisions/next-best-action", responses=errors(404, 422))
def next_best_action(
    body: NextBestActionIn,
    request: Request,
    caller: Annotated[Principal, Depends(require(Permission.DECISIONS_EVALUATE))],
) -> dict[str, Any]:
    """The best actions for a customer on a channel, with treatment, propensity, priority and
    why; each is recorded as presented (record its outcome with its `decision_id`)."""
    found = nba.next_best_action(
        caller,
        ops_of(request),
        body.customer_id,
        body.channel,
        context=body.context,
        limit=body.limit,
        case_id=body.case_id,
    )
    return found.to_dict()


@router.post("/decisions/outcomes", responses=errors(404, 409, 422))
def record_outcome(
    body: OutcomeIn,
    request: Request,
    caller: Annotated[Principal, Depends(require(Permission.DECISIONS_EVALUATE))],
) -> dict[str, Any]:
    """What the customer did with a presented action; its adaptive model learns from it."""
    return nba.record_outcome(caller, ops_of(request), body.decision_id, body.outcome).to_dict()


@router.get("/decisions/actions")
def list_actions(
    request: Request,
    caller: Annotated[Principal, Depends(require(Permission.MODELS_READ))],
) -> list[dict[str, Any]]:
    """The actions catalog (actions/*.yaml of the current bundles)."""
    return nba.actions(caller, ops_of(request))


@router.get("/decisions/models")
def list_models(
    request: Request,
    caller: Annotated[Principal, Depends(require(Permission.ANALYTICS_READ))],
) -> list[dict[str, Any]]:
    """Every adaptive model: version, evidence, AUC, calibration and predictor power."""
    return nba.models(caller, ops_of(request))


@router.get("/decisions/dashboard")
def dashboard(
    request: Request,
    caller: Annotated[Principal, Depends(require(Permission.ANALYTICS_READ))],
) -> dict[str, Any]:
    """Acceptance per action, channel, segment and arm; each model's AUC over time."""
    return nba.dashboard(caller, ops_of(request))
