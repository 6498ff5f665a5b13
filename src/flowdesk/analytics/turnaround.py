"""Turnaround time: how long cases take from their first to their last event.

This is the customer's view of a flow ("how long did my refund take"), so it is reported as
mean, median and 90th percentile: the mean alone hides the long tail customers complain about.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from flowdesk.analytics.log import CASE, TIMESTAMP, EventLog, duration_stats, seconds


@dataclass(frozen=True, slots=True)
class Turnaround:
    cases: int
    mean_seconds: float | None
    median_seconds: float | None
    p90_seconds: float | None
    min_seconds: float | None
    max_seconds: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "mean_seconds": self.mean_seconds,
            "median_seconds": self.median_seconds,
            "p90_seconds": self.p90_seconds,
            "min_seconds": self.min_seconds,
            "max_seconds": self.max_seconds,
        }


def case_durations(log: EventLog) -> pl.DataFrame:
    """One row per case: `case`, `start`, `end` and `duration` (seconds)."""
    return log.events.group_by(CASE).agg(
        pl.col(TIMESTAMP).min().alias("start"),
        pl.col(TIMESTAMP).max().alias("end"),
        seconds(pl.col(TIMESTAMP).max() - pl.col(TIMESTAMP).min()).alias("duration"),
    )


def turnaround(log: EventLog) -> Turnaround:
    durations = case_durations(log)
    row = durations.select(
        pl.len().alias("cases"),
        *duration_stats(pl.col("duration")),
        pl.col("duration").min().alias("min_seconds"),
        pl.col("duration").max().alias("max_seconds"),
    ).row(0, named=True)
    return Turnaround(
        cases=int(row["cases"]),
        mean_seconds=row["mean_seconds"],
        median_seconds=row["median_seconds"],
        p90_seconds=row["p90_seconds"],
        min_seconds=row["min_seconds"],
        max_seconds=row["max_seconds"],
    )
