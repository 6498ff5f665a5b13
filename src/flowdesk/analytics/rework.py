"""Rework loops: activities done more than once in the same case.

Doing a step again (re-checking a refund, re-contacting a customer) is waste the customer
feels; first-time-right is the share of cases with no repeated activity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from flowdesk.analytics.log import ACTIVITY, CASE, EventLog


@dataclass(frozen=True, slots=True)
class ReworkActivity:
    """`cases`: cases repeating the activity; `repeats`: executions beyond the first, summed."""

    activity: str
    cases: int
    repeats: int
    max_executions: int

    def to_json(self) -> dict[str, Any]:
        return {
            "activity": self.activity,
            "cases": self.cases,
            "repeats": self.repeats,
            "max_executions": self.max_executions,
        }


@dataclass(frozen=True, slots=True)
class Rework:
    cases: int
    cases_with_rework: int
    activities: list[ReworkActivity]

    @property
    def first_time_right_rate(self) -> float | None:
        """Share of cases without any repeated activity (None for an empty log)."""
        return None if self.cases == 0 else 1 - self.cases_with_rework / self.cases

    def to_json(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "cases_with_rework": self.cases_with_rework,
            "first_time_right_rate": self.first_time_right_rate,
            "activities": [a.to_json() for a in self.activities],
        }


def rework(log: EventLog) -> Rework:
    """Repeated activities per case; most affected cases first."""
    per_case = log.events.group_by(CASE, ACTIVITY).len("executions")
    repeated = per_case.filter(pl.col("executions") > 1)
    by_activity = (
        repeated.group_by(ACTIVITY)
        .agg(
            pl.len().alias("cases"),
            (pl.col("executions") - 1).sum().alias("repeats"),
            pl.col("executions").max().alias("max_executions"),
        )
        .sort(["cases", "repeats", ACTIVITY], descending=[True, True, False])
    )
    return Rework(
        cases=log.case_count,
        cases_with_rework=int(repeated.select(pl.col(CASE).n_unique()).item()),
        activities=[
            ReworkActivity(
                activity=row[ACTIVITY],
                cases=int(row["cases"]),
                repeats=int(row["repeats"]),
                max_executions=int(row["max_executions"]),
            )
            for row in by_activity.iter_rows(named=True)
        ],
    )
