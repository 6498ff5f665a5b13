"""Process mining of one deployed process: conformance (token replay of every completed instance
on the version it ran), the diagram heatmap, and the process map with its variants.

Each request reads the process's events from the log and replays them; the figures are therefore
always those of the log as it is now (identical cases are replayed once, so this stays cheap).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from flowdesk.api.routes.common import errors, ops_of
from flowdesk.api.security import require
from flowdesk.app import analytics as use
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal

router = APIRouter(prefix="/api/v1/analytics/processes", tags=["analytics"])
Reader = Annotated[Principal, Depends(require(Permission.ANALYTICS_READ))]
DeviationKind = Literal["not-enabled", "left-over", "not-in-model", "no-end"]


class TokenTotals(BaseModel):
    cases: int = Field(description="Cases replayed")
    fitting_cases: int = Field(description="Cases replayed without any deviation")
    fitness: float | None = Field(
        description="0.5*(1-missing/consumed) + 0.5*(1-remaining/produced) over the summed counts"
    )
    average_case_fitness: float | None
    min_case_fitness: float | None
    produced: int
    consumed: int
    missing: int
    remaining: int


class VersionConformance(TokenTotals):
    definition_id: str = Field(examples=["refund:3"])
    precision: float | None = Field(
        description="ETC precision: 1 - escaping/allowed next activities (pm4py's token-based)"
    )


class CaseDeviation(BaseModel):
    kind: DeviationKind = Field(
        description="not-enabled: ran without being enabled; left-over: tokens left on a flow; "
        "not-in-model: an element the model lacks; no-end: no end event reached"
    )
    element_id: str | None
    element_name: str | None
    flow_id: str | None = Field(description="Where tokens were left (a sequence flow id)")
    tokens: int
    description: str


class Deviation(CaseDeviation):
    cases: int = Field(description="Cases with this deviation")
    definition_ids: list[str]


class CaseConformance(BaseModel):
    case: str = Field(description="The process instance id")
    definition_id: str
    activities: int = Field(description="Completed activities replayed")
    fitness: float
    fitting: bool
    produced: int
    consumed: int
    missing: int
    remaining: int
    deviations: list[CaseDeviation]


class Conformance(TokenTotals):
    key: str
    precision: float | None = Field(
        description="ETC precision over all versions: 1.0 = the model allows nothing unseen"
    )
    match: Literal["element", "name"]
    skipped: dict[str, int] = Field(
        description="Instances not replayed, by reason (running, cancelled, no model)"
    )
    versions: list[VersionConformance]
    deviations: list[Deviation] = Field(description="Aggregated over cases, most cases first")
    worst_cases: list[CaseConformance] = Field(description="Least fitting cases first")


class MapEdge(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    source: str = Field(alias="from")
    to: str
    count: int
    mean_seconds: float | None
    median_seconds: float | None
    p90_seconds: float | None


class MapVariant(BaseModel):
    activities: list[str]
    count: int
    share: float
    mean_seconds: float | None
    median_seconds: float | None
    p90_seconds: float | None


class ProcessMap(BaseModel):
    key: str
    cases: int
    events: int
    activities: dict[str, int] = Field(description="Completions per activity")
    edges: list[MapEdge] = Field(description="Directly-follows edges, most frequent first")
    variant_count: int
    lifecycle: Literal["complete", "all"] = Field(
        description="complete: completions only; all: start events too (pm4py's counting)"
    )
    variants: list[MapVariant] = Field(description="The most frequent variants")


def analysis_of(request: Request, key: str, caller: Reader) -> use.ProcessAnalysis:
    """The analysis of `key` (404 problem when no version of it is deployed)."""
    return use.process_analysis(caller, ops_of(request), key)


Analysis = Annotated[use.ProcessAnalysis, Depends(analysis_of)]


@router.get(
    "/{key}/conformance",
    response_model=Conformance,
    responses=errors(404),
    summary="Token-replay conformance of the process's completed instances",
)
def conformance(
    _: Reader,
    analysis: Analysis,
    worst: Annotated[int, Query(ge=0, le=500, description="How many worst cases")] = 10,
    deviations: Annotated[int, Query(ge=1, le=1000, description="How many deviations")] = 50,
) -> Any:
    report = analysis.conformance()
    return {"key": analysis.key, **report.to_json(worst=worst, deviations=deviations)}


@router.get(
    "/{key}/heatmap.svg",
    response_class=Response,
    responses={
        **errors(404),
        200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}}},
    },
    summary="The process diagram tinted by frequency or mean duration",
)
def heatmap(
    _: Reader,
    analysis: Analysis,
    measure: Literal["frequency", "duration"] = "frequency",
    version: Annotated[
        int | None, Query(ge=1, description="Model version (default: newest with cases)")
    ] = None,
) -> Response:
    svg = analysis.heatmap(measure, version)
    return Response(svg, media_type="image/svg+xml")


@router.get(
    "/{key}/map",
    response_model=ProcessMap,
    responses=errors(404),
    summary="Process map (directly-follows edges with counts and durations) and variants",
)
def process_map(
    _: Reader,
    analysis: Analysis,
    top: Annotated[int, Query(ge=1, le=1000, description="How many variants")] = 10,
    all_events: Annotated[
        bool,
        Query(description="Count start events too, as pm4py does (default: completions only)"),
    ] = False,
) -> Any:
    return analysis.process_map(top, all_events=all_events)


class HandoffCell(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    source: str = Field(alias="from", description="Department that finished the work")
    to: str = Field(description="Department that took it over")
    count: int
    median_wait_seconds: float | None = Field(
        description="Sender's completion to receiver's start (completion where no starts)"
    )
    mean_wait_seconds: float | None
    rework: int = Field(description="Hand-offs back to a department that already worked on it")


class Handoffs(BaseModel):
    key: str
    departments: list[str] = Field(description="In order of first appearance")
    handoffs: list[HandoffCell] = Field(description="Most frequent first")
    total: int
    rework: int


@router.get(
    "/{key}/handoffs",
    response_model=Handoffs,
    responses=errors(404),
    summary="Department hand-off matrix: count, median wait and rework per pair",
)
def handoffs(_: Reader, analysis: Analysis) -> Any:
    return analysis.handoffs()


class Discovered(BaseModel):
    key: str
    miner: Literal["inductive", "heuristic"]
    noise: float
    process_id: str = Field(description="Id of the discovered process (deploys beside KEY)")
    cases: int = Field(description="Completed cases mined and replayed")
    fitness: float | None = Field(description="Token-replay fitness on the discovered model")
    fitting_cases: int
    deployed_fitness: float | None = Field(description="The same cases on the deployed model")
    deployed_fitting_cases: int
    tasks: int
    gateways: int
    deviations: list[Deviation]


Noise = Annotated[
    float,
    Query(
        ge=0.0,
        lt=1.0,
        description="Drop rare paths: the inductive miner's IMf threshold, the heuristics "
        "miner's directly-follows cleaning threshold",
    ),
]
MinerName = Annotated[
    Literal["inductive", "heuristic"],
    Query(description="inductive (block-structured, sound) or heuristic (Weijters)"),
]


def _discovery(analysis: use.ProcessAnalysis, noise: float, miner: MinerName) -> Any:
    from flowdesk.core.errors import NotFoundError

    found = analysis.discovery(noise, miner)
    if found is None:
        raise NotFoundError(f"process {analysis.key} has no completed cases to discover from")
    return found


@router.get(
    "/{key}/discovery",
    response_model=Discovered,
    responses=errors(404),
    summary="A model discovered from the completed cases, with fitness beside the deployed one",
)
def discovery(
    _: Reader, analysis: Analysis, noise: Noise = 0.2, miner: MinerName = "inductive"
) -> Any:
    return _discovery(analysis, noise, miner).to_json()


@router.get(
    "/{key}/discovered.bpmn",
    response_class=Response,
    responses={
        **errors(404),
        200: {"content": {"application/xml": {"schema": {"type": "string"}}}},
    },
    summary="The discovered model as BPMN 2.0 XML (deploys with POST /api/v1/deployments)",
)
def discovered_bpmn(
    _: Reader, analysis: Analysis, noise: Noise = 0.2, miner: MinerName = "inductive"
) -> Response:
    found = _discovery(analysis, noise, miner)
    filename = f"{analysis.key}-discovered.bpmn"
    return Response(
        found.xml,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


class AlignedMove(BaseModel):
    kind: Literal["sync", "log", "model"] = Field(
        description="sync: as the model says; log: done but not allowed here; "
        "model: required here but skipped"
    )
    activity: str
    element_id: str | None
    description: str


class CaseAlignment(BaseModel):
    key: str
    case: str
    definition_id: str
    cost: int = Field(description="10000 per log or model move, 1 per silent step (as pm4py)")
    fitness: float = Field(description="1 - moves / (case length + shortest model run)")
    deviations: int
    moves: list[AlignedMove]


@router.get(
    "/{key}/cases/{case}/alignment",
    response_model=CaseAlignment,
    responses=errors(404),
    summary="Optimal alignment of one case with its model: exactly what it did differently",
)
def alignment(_: Reader, analysis: Analysis, case: str) -> Any:
    return analysis.alignment(case)
