"""Customer-service KPIs over the case and work-item facts, per period and dimension.

Volumes (cases opened, complaints) count in the period a case was opened; outcomes
(turnaround, first-contact resolution, first-time-right, SLA compliance, repeat contacts,
surveys) in the period it closed, because an outcome is only known then. Definitions:
- first-contact resolution: closed after a single customer contact and not reopened;
- first-time-right: closed with no rework loop (a step done twice) and not reopened;
- SLA compliance: share of closed cases resolved within their policy's business time;
- NPS: % promoters (9-10) minus % detractors (0-6) among answers, -100..100.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime
from typing import Any, Literal

import polars as pl

Grain = Literal["day", "week", "month"]
GRAINS: dict[str, str] = {"day": "1d", "week": "1w", "month": "1mo"}
CASE_DIMENSIONS = ("flow", "channel", "segment", "reason")
ITEM_DIMENSIONS = ("department", "flow", "step", "agent")
#: Hours at which the turnaround histogram's buckets start.
TURNAROUND_BUCKETS = (0, 1, 4, 8, 24, 48, 72, 120, 168, 336)

HOURS = 3600.0
#: The group of cases or work items without a value for the grouping (joins never match null).
UNKNOWN = "(none)"


def period(column: str, grain: Grain, tz: str) -> pl.Expr:
    """The local calendar period an instant falls in (weeks start on Monday)."""
    return (
        pl.col(column).dt.convert_time_zone(tz).dt.truncate(GRAINS[grain]).dt.date().alias("period")
    )


def in_window(column: str, since: datetime | None, until: datetime | None) -> pl.Expr:
    condition = pl.col(column).is_not_null()
    if since is not None:
        condition &= pl.col(column) >= since
    if until is not None:
        condition &= pl.col(column) < until
    return condition


def filter_cases(
    cases: pl.DataFrame,
    *,
    flows: tuple[str, ...] | list[str] = (),
    channel: str | None = None,
    segment: str | None = None,
) -> pl.DataFrame:
    condition = pl.lit(True)
    if flows:
        condition &= pl.col("flow").is_in(list(flows))
    if channel:
        condition &= pl.col("channel") == channel
    if segment:
        condition &= pl.col("segment") == segment
    return cases.filter(condition)


def outcome_metrics() -> list[pl.Expr]:
    """Aggregations over closed cases (one group)."""
    turnaround = (pl.col("closed_at") - pl.col("opened_at")).dt.total_seconds() / HOURS
    answered = pl.col("nps").is_not_null().sum()
    return [
        pl.len().alias("closed"),
        turnaround.mean().alias("turnaround_hours_mean"),
        turnaround.median().alias("turnaround_hours_p50"),
        turnaround.quantile(0.9, "linear").alias("turnaround_hours_p90"),
        ((pl.col("contacts") <= 1) & ~pl.col("reopened")).mean().alias("fcr_rate"),
        (~pl.col("rework") & ~pl.col("reopened")).mean().alias("ftr_rate"),
        pl.col("sla_met").cast(pl.Float64).mean().alias("sla_compliance"),
        (pl.col("contacts") - 1).clip(lower_bound=0).mean().alias("repeat_contacts"),
        pl.col("handoffs").mean().alias("handoffs"),
        (pl.col("csat").is_not_null() | pl.col("nps").is_not_null()).sum().alias("surveys"),
        pl.col("csat").mean().alias("csat"),
        pl.when(answered > 0)
        .then(
            # Counts are unsigned in Polars: subtracting more detractors than promoters would
            # wrap around, so both are cast first.
            (
                (pl.col("nps") >= 9).sum().cast(pl.Float64)
                - (pl.col("nps") <= 6).sum().cast(pl.Float64)
            )
            * 100.0
            / answered
        )
        .otherwise(None)
        .alias("nps"),
    ]


VOLUME_COLUMNS = ("opened", "complaints")
OUTCOME_COLUMNS = (
    "closed",
    "turnaround_hours_mean",
    "turnaround_hours_p50",
    "turnaround_hours_p90",
    "fcr_rate",
    "ftr_rate",
    "sla_compliance",
    "repeat_contacts",
    "handoffs",
    "surveys",
    "csat",
    "nps",
)
CASE_KPI_COLUMNS = (*VOLUME_COLUMNS, "complaint_rate", *OUTCOME_COLUMNS)


def case_kpis(
    cases: pl.DataFrame,
    *,
    grain: Grain | None = "week",
    by: str | None = None,
    tz: str = "UTC",
    since: datetime | None = None,
    until: datetime | None = None,
) -> pl.DataFrame:
    """KPIs per period (and per `by`, a CASE_DIMENSIONS column); `grain=None` gives one row
    (per group) for the whole window."""
    if by is not None and by not in CASE_DIMENSIONS:
        raise ValueError(f"cannot group cases by {by!r}; use one of {', '.join(CASE_DIMENSIONS)}")
    keys = (["period"] if grain else []) + ([by] if by else [])
    opened = cases.filter(in_window("opened_at", since, until))
    closed = cases.filter(in_window("closed_at", since, until))
    if by:  # a case without a channel (started over the API) is a group of its own
        opened = opened.with_columns(pl.col(by).fill_null(UNKNOWN))
        closed = closed.with_columns(pl.col(by).fill_null(UNKNOWN))
    if grain:
        opened = opened.with_columns(period("opened_at", grain, tz))
        closed = closed.with_columns(period("closed_at", grain, tz))
    volume_aggs = [pl.len().alias("opened"), pl.col("complaint").sum().alias("complaints")]
    if keys:
        volumes = opened.group_by(keys).agg(volume_aggs)
        outcomes = closed.group_by(keys).agg(outcome_metrics())
        table = volumes.join(outcomes, on=keys, how="full", coalesce=True)
    else:
        table = pl.concat(
            [opened.select(volume_aggs), closed.select(outcome_metrics())], how="horizontal"
        )
    table = table.with_columns(
        pl.col("opened").fill_null(0).cast(pl.Int64),
        pl.col("complaints").fill_null(0).cast(pl.Int64),
        pl.col("closed").fill_null(0).cast(pl.Int64),
        pl.col("surveys").fill_null(0).cast(pl.Int64),
    ).with_columns(
        pl.when(pl.col("opened") > 0)
        .then(pl.col("complaints") / pl.col("opened"))
        .otherwise(None)
        .alias("complaint_rate")
    )
    return (
        table.select(*keys, *CASE_KPI_COLUMNS).sort(keys, nulls_last=True)
        if keys
        else (table.select(*CASE_KPI_COLUMNS))
    )


WORK_KPI_COLUMNS = (
    "completed",
    "pickup_minutes_mean",
    "handling_minutes_mean",
    "handling_minutes_p90",
    "handoffs_in",
    "ola_pickup_compliance",
    "ola_resolve_compliance",
)


def work_kpis(
    items: pl.DataFrame,
    *,
    grain: Grain | None = "week",
    by: str | None = "department",
    tz: str = "UTC",
    since: datetime | None = None,
    until: datetime | None = None,
) -> pl.DataFrame:
    """Agent and department KPIs over work items completed in the window: waiting before
    pickup, handling time (claimed to completed) and OLA compliance of hand-offs."""
    if by is not None and by not in ITEM_DIMENSIONS:
        raise ValueError(f"cannot group work by {by!r}; use one of {', '.join(ITEM_DIMENSIONS)}")
    done = items.filter(in_window("completed_at", since, until))
    if by:
        done = done.with_columns(pl.col(by).fill_null(UNKNOWN))
    keys = (["period"] if grain else []) + ([by] if by else [])
    if grain:
        done = done.with_columns(period("completed_at", grain, tz))
    pickup = (
        pl.coalesce("claimed_at", "completed_at") - pl.col("created_at")
    ).dt.total_seconds() / 60.0
    handling = (pl.col("completed_at") - pl.col("claimed_at")).dt.total_seconds() / 60.0
    aggs = [
        pl.len().cast(pl.Int64).alias("completed"),
        pickup.mean().alias("pickup_minutes_mean"),
        handling.mean().alias("handling_minutes_mean"),
        handling.quantile(0.9, "linear").alias("handling_minutes_p90"),
        pl.col("handoff").sum().cast(pl.Int64).alias("handoffs_in"),
        pl.col("ola_pickup_met").cast(pl.Float64).mean().alias("ola_pickup_compliance"),
        pl.col("ola_resolve_met").cast(pl.Float64).mean().alias("ola_resolve_compliance"),
    ]
    if not keys:
        return done.select(aggs)
    return done.group_by(keys).agg(aggs).sort(keys, nulls_last=True)


AGE_BUCKETS = (("under_1d", 0, 24), ("d1_3", 24, 72), ("d3_7", 72, 168), ("over_7d", 168, None))


def backlog(cases: pl.DataFrame, items: pl.DataFrame, now: datetime) -> dict[str, Any]:
    """Open cases by flow with their age distribution, and open work by department."""
    age = (pl.lit(now) - pl.col("opened_at")).dt.total_seconds() / HOURS
    open_cases = cases.filter(pl.col("closed_at").is_null()).with_columns(age.alias("age"))
    buckets = [
        ((pl.col("age") >= low) & (pl.col("age") < high if high else pl.lit(True)))
        .sum()
        .alias(name)
        for name, low, high in AGE_BUCKETS
    ]
    by_flow = (
        open_cases.group_by("flow")
        .agg(pl.len().alias("open"), *buckets, pl.col("age").max().alias("oldest_hours"))
        # ties by name: group_by keeps no order, and the same figures should read the same
        .sort(["open", "flow"], descending=[True, False], nulls_last=True)
    )
    waiting = (pl.lit(now) - pl.col("created_at")).dt.total_seconds() / HOURS
    open_items = items.filter(pl.col("completed_at").is_null())
    by_department = (
        open_items.group_by("department")
        .agg(
            pl.len().alias("open"),
            pl.col("claimed_at").is_null().sum().alias("unclaimed"),
            waiting.max().alias("oldest_hours"),
        )
        .sort(["open", "department"], descending=[True, False], nulls_last=True)
    )
    return {
        "open_cases": open_cases.height,
        "by_flow": by_flow.to_dicts(),
        "open_work": open_items.height,
        "by_department": by_department.to_dicts(),
    }


def turnaround_histogram(
    cases: pl.DataFrame, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    """Closed cases per turnaround bucket ("0-1h", "1-4h", ..., "336h+")."""
    closed = cases.filter(in_window("closed_at", since, until))
    hours = ((closed["closed_at"] - closed["opened_at"]).dt.total_seconds() / HOURS).to_list()
    edges = list(TURNAROUND_BUCKETS)
    counts = [0] * len(edges)
    for value in hours:
        counts[max(bisect_right(edges, value) - 1, 0)] += 1
    labels = [
        f"{edges[i]}-{edges[i + 1]}h" if i + 1 < len(edges) else f"{edges[i]}h+"
        for i in range(len(edges))
    ]
    return [{"bucket": label, "cases": count} for label, count in zip(labels, counts, strict=True)]


def funnel(
    facts_cases: pl.DataFrame,
    contacts: pl.DataFrame,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """From contact to promoter, for cases opened in the window: contacts received, cases
    opened, closed, first time right, surveyed, promoters."""
    received = contacts.filter(in_window("received_at", since, until)).height
    opened = facts_cases.filter(in_window("opened_at", since, until))
    closed = opened.filter(pl.col("closed_at").is_not_null())
    right = closed.filter(~pl.col("rework") & ~pl.col("reopened"))
    surveyed = closed.filter(pl.col("csat").is_not_null() | pl.col("nps").is_not_null())
    promoters = surveyed.filter(pl.col("nps") >= 9)
    steps = [
        ("contacts received", received),
        ("cases opened", opened.height),
        ("closed", closed.height),
        ("first time right", right.height),
        ("surveyed", surveyed.height),
        ("promoters", promoters.height),
    ]
    return [{"step": name, "count": count} for name, count in steps]


def channel_mix(
    contacts: pl.DataFrame, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    table = (
        contacts.filter(in_window("received_at", since, until))
        .group_by("channel")
        .agg(pl.len().alias("contacts"))
        .sort(["contacts", "channel"], descending=[True, False])
    )
    return table.to_dicts()
