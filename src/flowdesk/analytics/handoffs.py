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


def handoff_matrix(log: EventLog) -> dict[str, dict[str, int]]:
    """from department -> to department -> number of hand-offs."""
    matrix: dict[str, dict[str, int]] = {}
    for h in handoffs(log):
        matrix.setdefault(h.source, {})[h.target] = h.count
    return matrix
