"""Analytics as both doors serve them: KPIs, work by department, backlog and the outside-in
scorecard from the one `Analytics` service of the app (so the API's figures and a dashboard's
never disagree), and process mining (conformance, heatmap, process map) of a deployed process.
All of it is for those who may read analytics (supervisors, administrators)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from flowdesk.analytics.discovery import MINERS
from flowdesk.analytics.heatmap import MEASURES, format_seconds
from flowdesk.analytics.kpis import CASE_DIMENSIONS, ITEM_DIMENSIONS, Grain
from flowdesk.analytics.process_analysis import ProcessAnalysis, deployed_processes, load_analysis
from flowdesk.analytics.service import Analytics, Filters, up_to
from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.values import InvalidInput
from flowdesk.auth.roles import Permission
from flowdesk.core.errors import NotFoundError

__all__ = [
    "CASE_DIMENSIONS",
    "ITEM_DIMENSIONS",
    "MEASURES",
    "MINERS",
    "Filters",
    "Grain",
    "ProcessAnalysis",
    "format_seconds",
]


def _service(caller: Caller, ops: Ops) -> Analytics:
    require(caller, Permission.ANALYTICS_READ)
    service: Analytics = ops.service("analytics")
    return service


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def window(
    ops: Ops,
    *,
    days: int,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    flow: str | None = None,
    channel: str | None = None,
    segment: str | None = None,
) -> Filters:
    """The filters of a request: `since` .. `until` (default now), else the last `days`."""
    end = _aware(until) if until else up_to(ops.clock.now())
    try:
        start = _aware(since) if since else end - dt.timedelta(days=days)
    except OverflowError:
        raise InvalidInput(
            f"the window of {days} days before {end.isoformat()} starts before year 1"
        ) from None
    if start >= end:
        raise InvalidInput(
            f"the window is empty: since {start.isoformat()} is not before until {end.isoformat()}",
            hint="give since earlier than until",
        )
    return Filters(since=start, until=end, flow=flow, channel=channel, segment=segment)


def _check_dimension(what: str, by: str | None, allowed: tuple[str, ...]) -> None:
    if by is not None and by not in allowed:
        raise InvalidInput(
            f"cannot group {what} by {by!r}", hint=f"use one of {', '.join(allowed)}"
        )


def case_kpis(
    caller: Caller, ops: Ops, filters: Filters, grain: Grain | None, by: str | None
) -> pl.DataFrame:
    """Case KPIs per period (`grain`, None for the whole window) and dimension."""
    service = _service(caller, ops)
    _check_dimension("cases", by, CASE_DIMENSIONS)
    return service.case_kpis(filters, grain=grain, by=by)


def work_kpis(
    caller: Caller, ops: Ops, filters: Filters, grain: Grain | None, by: str | None
) -> pl.DataFrame:
    """Work-item KPIs: pickup, handling time and OLA compliance."""
    service = _service(caller, ops)
    _check_dimension("work", by, ITEM_DIMENSIONS)
    return service.work_kpis(filters, grain=grain, by=by)


def backlog(caller: Caller, ops: Ops, filters: Filters) -> dict[str, Any]:
    """Open cases by flow and open work by department."""
    return _service(caller, ops).backlog(filters)


def scorecard(caller: Caller, ops: Ops, days: int, weeks: int) -> list[Any]:
    """The outside-in criteria: the value over the last `days` and the weekly trend."""
    return list(_service(caller, ops).scorecard(dt.timedelta(days=days), weeks))


def overview(caller: Caller, ops: Ops, filters: Filters, grain: Grain) -> dict[str, Any]:
    """The KPI overview of the dashboards: the cards and their series."""
    return _service(caller, ops).overview(filters, grain)


def departments(
    caller: Caller, ops: Ops, filters: Filters
) -> tuple[list[dict[str, Any]], dict[str, str], dict[str, Any]]:
    """Work KPIs by department, the departments' names and the backlog, from one read."""
    service = _service(caller, ops)
    facts = service.facts(filters)
    rows = service.work_kpis(filters, grain=None, by="department", facts=facts).to_dicts()
    return rows, dict(service.config.department_names), service.backlog(filters, facts)


def processes(caller: Caller, ops: Ops) -> list[Any]:
    """The deployed processes that can be analysed."""
    require(caller, Permission.ANALYTICS_READ)
    return list(deployed_processes(ops.store))


def process_analysis(caller: Caller, ops: Ops, key: str) -> ProcessAnalysis:
    """The analysis of the process `key` over the event log as it is now (NotFoundError when
    no version of it is deployed)."""
    require(caller, Permission.ANALYTICS_READ)
    return load_analysis(ops.store, key, ops.runtime.registry)


SENTIMENT_SOURCES = ("contact", "survey", "social")


def sentiment(
    caller: Caller,
    ops: Ops,
    *,
    days: int = 30,
    bucket: str = "day",
    reason: str | None = None,
    source: str | None = None,
    case: str | None = None,
    catch_up: bool = False,
) -> dict[str, Any]:
    """What customers' words feel like: per reason over time with the driving words, the
    topics, the most negative texts; with `case` (reference or id) that case's texts too.
    `catch_up` first scores what the worker has not (the command line, with no worker)."""
    require(caller, Permission.ANALYTICS_READ)
    from flowdesk.sentiment import service as feelings

    if bucket not in ("day", "week"):
        raise InvalidInput(f"unknown bucket {bucket!r}", hint="use day or week")
    if source is not None and source not in SENTIMENT_SOURCES:
        raise InvalidInput(
            f"unknown source {source!r}", hint=f"use one of {', '.join(SENTIMENT_SOURCES)}"
        )
    if days < 1:
        raise InvalidInput("days must be at least 1", hint="for example days=30")
    if catch_up:
        feelings.SentimentScorer(ops.store).tick()
    out = feelings.overview(
        ops.store, now=ops.clock.now(), days=days, bucket=bucket, reason=reason, source=source
    )
    if case is not None:
        found = feelings.find_case(ops.store, case)
        if found is None:
            raise NotFoundError(f"no case {case}")
        out["case"] = {
            "id": found[0],
            "reference": found[1],
            "texts": feelings.of_case(ops.store, found[0]),
        }
    return out


def case_sentiment(caller: Caller, ops: Ops, item_id: str) -> list[dict[str, Any]]:
    """The scored texts of the case a work item serves, for whoever may see that work item
    (the case page shows them)."""
    from flowdesk.app.work import get_item
    from flowdesk.sentiment import service as feelings

    item = get_item(caller, ops, item_id)  # NotFound / Forbidden as for the item itself
    instance_id = item.get("instance_id")
    return feelings.of_instance(ops.store, instance_id) if instance_id else []
