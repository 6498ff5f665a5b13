"""Start and end activities: how cases begin and how they finish, with case counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from flowdesk.analytics.log import ACTIVITY, CASE, EventLog


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Activity -> number of cases starting (ending) with it, most frequent first."""

    start: dict[str, int]
    end: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"start_activities": self.start, "end_activities": self.end}


def endpoints(log: EventLog) -> Endpoints:
    per_case = log.events.group_by(CASE).agg(
        pl.col(ACTIVITY).first().alias("first"), pl.col(ACTIVITY).last().alias("last")
    )
    return Endpoints(_tally(per_case, "first"), _tally(per_case, "last"))


def start_activities(log: EventLog) -> dict[str, int]:
    return endpoints(log).start


def end_activities(log: EventLog) -> dict[str, int]:
    return endpoints(log).end


def _tally(frame: pl.DataFrame, column: str) -> dict[str, int]:
    counted = frame.group_by(column).len().sort(["len", column], descending=[True, False])
    return {str(activity): int(n) for activity, n in counted.iter_rows()}
