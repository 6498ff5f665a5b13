"""The department hand-off matrix: how often work passes between departments, and how long
it waits at each hand-off.

A hand-off is two consecutive activity instances of one case done by different departments.
Every hand-off is a queue and a chance to lose context, so this matrix is where operating-level
agreements (OLAs) between departments are measured. The waiting time of a hand-off runs from the
completion in the sending department to the start in the receiving one (to its completion
where the log records no starts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from flowdesk.analytics.bottlenecks import activity_instances
from flowdesk.analytics.log import CASE, DEPARTMENT, EventLog, duration_stats, seconds


@dataclass(frozen=True, slots=True)
class Handoff:
    source: str
    target: str
    count: int
    waiting_mean_seconds: float | None
    waiting_median_seconds: float | None
    waiting_p90_seconds: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "count": self.count,
            "waiting_mean_seconds": self.waiting_mean_seconds,
            "waiting_median_seconds": self.waiting_median_seconds,
            "waiting_p90_seconds": self.waiting_p90_seconds,
        }


def handoffs_frame(log: EventLog) -> pl.DataFrame:
    """One row per (from, to) department pair with a hand-off: count and waiting statistics.

    Instances without a department are skipped, so a hand-off is counted between the last
    known department and the next one.
    """
    instances = activity_instances(log).filter(pl.col(DEPARTMENT).is_not_null())
    arrival = pl.coalesce(pl.col("start"), pl.col("end"))
    pairs = instances.select(
        pl.col(DEPARTMENT).alias("source"),
        pl.col(DEPARTMENT).shift(-1).alias("target"),
        seconds(arrival.shift(-1) - pl.col("end")).alias("waiting"),
        (pl.col(CASE) == pl.col(CASE).shift(-1)).alias("same_case"),
    ).filter(pl.col("same_case") & (pl.col("source") != pl.col("target")))
    return (
        pairs.group_by("source", "target")
        .agg(pl.len().alias("count"), *duration_stats(pl.col("waiting"), "waiting_"))
        .sort(["count", "source", "target"], descending=[True, False, False])
    )


def handoffs(log: EventLog) -> list[Handoff]:
    return [
        Handoff(
            source=row["source"],
            target=row["target"],
            count=int(row["count"]),
            waiting_mean_seconds=row["waiting_mean_seconds"],
            waiting_median_seconds=row["waiting_median_seconds"],
            waiting_p90_seconds=row["waiting_p90_seconds"],
        )
        for row in handoffs_frame(log).iter_rows(named=True)
    ]


def handoff_report(log: EventLog) -> dict[str, Any]:
    """The department hand-off matrix as JSON: departments (in order of first appearance) and
    one cell per (from, to) pair with the count, the median and mean wait, and `rework`: the
    hand-offs that send work *back* to a department that already worked on the case.

    Lifecycle: instances pair a start with its completion (see `activity_instances`); the wait
    runs from the sender's completion to the receiver's start (its completion without starts).
    """
    instances = activity_instances(log).filter(pl.col(DEPARTMENT).is_not_null())
    arrival = pl.coalesce(pl.col("start"), pl.col("end"))
    position = pl.int_range(pl.len()).over(CASE)
    ranked = instances.with_columns(position.alias("position")).with_columns(
        pl.col("position").min().over(CASE, DEPARTMENT).alias("first_here")
    )
    pairs = ranked.select(
        pl.col(DEPARTMENT).alias("source"),
        pl.col(DEPARTMENT).shift(-1).alias("target"),
        seconds(arrival.shift(-1) - pl.col("end")).alias("waiting"),
        (pl.col(CASE) == pl.col(CASE).shift(-1)).alias("same_case"),
        (pl.col("first_here").shift(-1) < pl.col("position").shift(-1)).alias("back"),
    ).filter(pl.col("same_case") & (pl.col("source") != pl.col("target")))
    cells = (
        pairs.group_by("source", "target")
        .agg(
            pl.len().alias("count"),
            pl.col("waiting").median().alias("median_wait_seconds"),
            pl.col("waiting").mean().alias("mean_wait_seconds"),
            pl.col("back").sum().alias("rework"),
        )
        .sort(["count", "source", "target"], descending=[True, False, False])
    )
    departments = (
        instances.select(pl.col(DEPARTMENT).unique(maintain_order=True)).to_series().to_list()
    )
    rows = [
        {
            "from": row["source"],
            "to": row["target"],
            "count": int(row["count"]),
            "median_wait_seconds": row["median_wait_seconds"],
            "mean_wait_seconds": row["mean_wait_seconds"],
            "rework": int(row["rework"]),
        }
        for row in cells.iter_rows(named=True)
    ]
    return {
        "departments": departments,
        "handoffs": rows,
        "total": sum(r["count"] for r in rows),
        "rework": sum(r["rework"] for r in rows),
    }


def handoff_matrix(log: EventLog) -> dict[str, dict[str, int]]:
    """from department -> to department -> number of hand-offs."""
    matrix: dict[str, dict[str, int]] = {}
    for h in handoffs(log):
        matrix.setdefault(h.source, {})[h.target] = h.count
    return matrix
