"""What-if simulation over REST: the baseline, a scenario run beside it, the staffing search.

Thin: the use cases in flowdesk.app.simulation own permission (supervise), limits and
validation, as they do for `flowdesk simulate` and the /simulation page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from flowdesk.api.routes.common import errors, ops_of
from flowdesk.api.security import require
from flowdesk.app import simulation as use
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal

router = APIRouter(prefix="/api/v1/simulations", tags=["simulation"])
Supervisor = Annotated[Principal, Depends(require(Permission.SUPERVISE))]


#: The scenario's keys (flowdesk.simulation.scenario.KEYS); what each holds names departments,
#: shifts and flows of the baseline, which the use case checks.
SCENARIO_SCHEMA: dict[str, Any] = {
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        **{
            key: {"type": "object"}
            for key in (
                *("staff", "staff_change", "arrivals", "flows"),
                *("priorities", "patience", "capacity"),
            )
        },
        "days": {"type": "integer", "minimum": 1, "maximum": use.MAX_DAYS},
        "replications": {"type": "integer", "minimum": 1, "maximum": use.MAX_REPLICATIONS},
        "seed": {"type": "integer"},
    },
    "additionalProperties": False,
}


class RunBody(BaseModel):
    scenario: dict[str, Any] = Field(
        default_factory=dict,
        description="Changes to the baseline (docs/simulation.md): staff, staff_change, "
        "arrivals, flows, priorities, patience, capacity",
        json_schema_extra=SCENARIO_SCHEMA,
    )
    days: int | None = Field(default=None, ge=1, le=use.MAX_DAYS)
    replications: int | None = Field(default=None, ge=1, le=use.MAX_REPLICATIONS)
    seed: int | None = None
    compare: bool = Field(default=True, description="Run the baseline beside it (same seeds)")


class StaffingBody(BaseModel):
    days: int = Field(default=7, ge=1, le=use.MAX_DAYS)
    replications: int = Field(default=2, ge=1, le=use.MAX_REPLICATIONS)
    target: float = Field(default=0.9, gt=0, lt=1, description="Share of OLA pickups met")


@router.get("/baseline", responses=errors(409), summary="The baseline model: staff, flows, volumes")
def baseline(request: Request, caller: Supervisor) -> dict[str, Any]:
    return use.baseline_view(caller, ops_of(request))


@router.get("/scenarios", responses=errors(), summary="Prepared scenarios to run or start from")
def scenarios(request: Request, caller: Supervisor) -> list[dict[str, Any]]:
    return use.starting_points(caller, ops_of(request))


@router.post("", responses=errors(409), summary="Run a scenario (and the baseline beside it)")
def run(request: Request, body: RunBody, caller: Supervisor) -> dict[str, Any]:
    return use.run(
        caller,
        ops_of(request),
        body.scenario,
        days=body.days,
        replications=body.replications,
        seed=body.seed,
        compare=body.compare,
    )


@router.post("/staffing", responses=errors(409), summary="Fewest agents per department and shift")
def staffing(request: Request, body: StaffingBody, caller: Supervisor) -> dict[str, Any]:
    return use.staffing(
        caller, ops_of(request), days=body.days, replications=body.replications, target=body.target
    )
