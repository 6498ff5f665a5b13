"""KPIs, backlog and the outside-in scorecard over the event log, as JSON or CSV.

The dashboards draw the same figures from the same `Analytics` service, so a number read here
and one seen on a dashboard page never disagree.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import polars as pl
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from flowdesk.api.routes.common import IsoDateTime, errors, ops_of
from flowdesk.api.security import require
from flowdesk.app import analytics as use
from flowdesk.app.analytics import CASE_DIMENSIONS, ITEM_DIMENSIONS, Filters
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])
Reader = Annotated[Principal, Depends(require(Permission.ANALYTICS_READ))]
GrainParam = Literal["day", "week", "month", "total"]
MAX_DAYS = 3660


def filters_of(
    request: Request,
    days: Annotated[
        int, Query(ge=1, le=MAX_DAYS, description="Window: the last N days (default 30)")
    ] = 30,
    since: Annotated[
        IsoDateTime | None, Query(description="Window start (ISO 8601); overrides days")
    ] = None,
    until: Annotated[IsoDateTime | None, Query(description="Window end (default now)")] = None,
    flow: Annotated[str | None, Query(max_length=200, description="Process key")] = None,
    channel: Annotated[str | None, Query(max_length=50)] = None,
    segment: Annotated[str | None, Query(max_length=50)] = None,
) -> Filters:
    return use.window(
        ops_of(request),
        days=days,
        since=since,
        until=until,
        flow=flow,
        channel=channel,
        segment=segment,
    )


FilterDep = Annotated[Filters, Depends(filters_of)]


class CaseKpis(BaseModel):
    """One period (and group) of case KPIs; rates are fractions, times hours."""

    period: dt.date | None = Field(default=None, description="Start of the period (local)")
    group: str | None = Field(default=None, description="Value of the `by` dimension")
    opened: int
    complaints: int
    complaint_rate: float | None
    closed: int
    turnaround_hours_mean: float | None
    turnaround_hours_p50: float | None
    turnaround_hours_p90: float | None
    fcr_rate: float | None = Field(description="First-contact resolution")
    ftr_rate: float | None = Field(description="First time right: no rework, not reopened")
    sla_compliance: float | None
    repeat_contacts: float | None = Field(description="Extra contacts per closed case")
    handoffs: float | None = Field(description="Department hand-offs per closed case")
    surveys: int
    csat: float | None = Field(description="Mean CSAT, 1-5")
    nps: float | None = Field(description="Net promoter score, -100..100")


class WorkKpis(BaseModel):
    period: dt.date | None = None
    group: str | None = None
    completed: int
    pickup_minutes_mean: float | None
    handling_minutes_mean: float | None
    handling_minutes_p90: float | None
    handoffs_in: int
    ola_pickup_compliance: float | None
    ola_resolve_compliance: float | None


class KpiTable(BaseModel):
    since: dt.datetime
    until: dt.datetime
    grain: GrainParam
    by: str | None
    rows: list[CaseKpis]


class WorkTable(BaseModel):
    since: dt.datetime
    until: dt.datetime
    grain: GrainParam
    by: str | None
    rows: list[WorkKpis]


class Backlog(BaseModel):
    open_cases: int
    by_flow: list[dict[str, Any]]
    open_work: int
    by_department: list[dict[str, Any]]


class TrendPoint(BaseModel):
    week: str
    value: float | None


class MeasureOut(BaseModel):
    metric: str
    target: float
    lower_is_better: bool
    value: float | None
    met: bool | None
    direction: Literal["better", "worse", "flat"]
    trend: list[TrendPoint]


class CriterionOut(BaseModel):
    id: str
    name: str
    description: str
    flows: list[str]
    cases: int
    status: Literal["met", "at risk", "missed", "no data"]
    measures: list[MeasureOut]


class Scorecard(BaseModel):
    window_days: int
    criteria: list[CriterionOut]


def _table(frame: pl.DataFrame, by: str | None) -> list[dict[str, Any]]:
    if by:
        frame = frame.rename({by: "group"})
    return [{k: _clean(v) for k, v in row.items()} for row in frame.to_dicts()]


def _clean(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # NaN: no data
        return None
    return round(value, 4) if isinstance(value, float) else value


def _csv(frame: pl.DataFrame, name: str) -> Response:
    return Response(
        frame.write_csv(float_precision=4),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _answer(
    frame: pl.DataFrame, name: str, filters: Filters, grain: str, by: str | None, format: str
) -> Any:
    """The table as CSV, or as JSON with the window it covers."""
    if format == "csv":
        return _csv(frame, name)
    return {
        "since": filters.since,
        "until": filters.until,
        "grain": grain,
        "by": by,
        "rows": _table(frame, by),
    }


_CSV = {"text/csv": {"schema": {"type": "string"}, "example": "period,opened,closed\n"}}


@router.get(
    "/kpis",
    response_model=KpiTable,
    responses={**errors(), 200: {"content": _CSV}},
    summary="Case KPIs per period and dimension (JSON or CSV)",
)
def case_kpis(
    request: Request,
    filters: FilterDep,
    caller: Reader,
    grain: GrainParam = "week",
    by: Annotated[
        str | None, Query(description=f"Group by one of: {', '.join(CASE_DIMENSIONS)}")
    ] = None,
    format: Literal["json", "csv"] = "json",
) -> Any:
    grained = None if grain == "total" else grain
    frame = use.case_kpis(caller, ops_of(request), filters, grained, by)
    return _answer(frame, "flowdesk-kpis", filters, grain, by, format)


@router.get(
    "/work",
    response_model=WorkTable,
    responses={**errors(), 200: {"content": _CSV}},
    summary="Work-item KPIs: pickup, handling time and OLA compliance (JSON or CSV)",
)
def work_kpis(
    request: Request,
    filters: FilterDep,
    caller: Reader,
    grain: GrainParam = "total",
    by: Annotated[
        str | None, Query(description=f"Group by one of: {', '.join(ITEM_DIMENSIONS)}")
    ] = "department",
    format: Literal["json", "csv"] = "json",
) -> Any:
    grained = None if grain == "total" else grain
    frame = use.work_kpis(caller, ops_of(request), filters, grained, by)
    return _answer(frame, "flowdesk-work", filters, grain, by, format)


@router.get("/backlog", response_model=Backlog, responses=errors(), summary="Open cases and work")
def backlog(request: Request, filters: FilterDep, caller: Reader) -> Any:
    data = use.backlog(caller, ops_of(request), filters)
    data["by_flow"] = [{k: _clean(v) for k, v in r.items()} for r in data["by_flow"]]
    data["by_department"] = [{k: _clean(v) for k, v in r.items()} for r in data["by_department"]]
    return data


@router.get(
    "/scorecard",
    response_model=Scorecard,
    responses=errors(),
    summary="The outside-in scorecard: criteria, targets, values and weekly trend",
)
def get_scorecard(
    request: Request,
    caller: Reader,
    days: Annotated[int, Query(ge=1, le=366, description="Window of the current value")] = 7,
    weeks: Annotated[int, Query(ge=2, le=104, description="Weeks of trend")] = 8,
) -> Any:
    results = use.scorecard(caller, ops_of(request), days, weeks)
    return {"window_days": days, "criteria": [r.to_json() for r in results]}


class SentimentDriver(BaseModel):
    word: str
    weight: float = Field(description="Summed contribution to the compound (negative: pulls down)")
    texts: int | None = None


class SentimentPoint(BaseModel):
    period: str = Field(description="Start of the day or week")
    mean: float = Field(description="Mean compound in [-1, 1]")
    texts: int


class SentimentReason(BaseModel):
    reason: str
    texts: int
    mean: float
    negative: int
    neutral: int
    positive: int
    series: list[SentimentPoint]
    drivers: list[SentimentDriver]


class TopicTerm(BaseModel):
    term: str
    weight: float = Field(description="TF-IDF weight of the term in the group")


class Topic(BaseModel):
    group: str = Field(description="The reason")
    texts: int
    terms: list[TopicTerm]


class ScoredText(BaseModel):
    id: str
    source: str = Field(description="contact, survey or social")
    channel: str | None
    customer_id: str | None
    case_id: str | None
    reason: str | None
    at: str
    compound: float
    label: str
    drivers: list[SentimentDriver]
    excerpt: str


class CaseSentiment(BaseModel):
    id: str
    reference: str
    texts: list[ScoredText]


class SentimentReport(BaseModel):
    since: str
    bucket: str
    texts: int
    mean: float | None
    negative: int
    neutral: int
    positive: int
    by_source: dict[str, int]
    reasons: list[SentimentReason]
    drivers: list[SentimentDriver]
    topics: list[Topic]
    most_negative: list[ScoredText]
    case: CaseSentiment | None = None


@router.get(
    "/sentiment",
    response_model=SentimentReport,
    responses=errors(),
    summary="Sentiment of customer words per reason over time, driving words and topics",
)
def get_sentiment(
    request: Request,
    caller: Reader,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS, description="The last N days")] = 30,
    bucket: Literal["day", "week"] = "day",
    reason: Annotated[str | None, Query(max_length=100)] = None,
    source: Literal["contact", "survey", "social"] | None = None,
    case: Annotated[
        str | None, Query(max_length=64, description="A case reference or id: its texts too")
    ] = None,
) -> Any:
    return use.sentiment(
        caller, ops_of(request), days=days, bucket=bucket, reason=reason, source=source, case=case
    )
