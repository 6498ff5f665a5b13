"""The process map: a directly-follows graph with frequencies and durations per edge.

Edge a -> b counts how often, within one case, an event of activity b comes right after one of
activity a (the same definition pm4py uses, so the counts agree). The duration of an edge is the
time between the two events; mean, median and 90th percentile say where time goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from flowdesk.analytics.log import ACTIVITY, CASE, TIMESTAMP, EventLog, duration_stats, seconds


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    count: int
    mean_seconds: float | None
    median_seconds: float | None
    p90_seconds: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "count": self.count,
            "mean_seconds": self.mean_seconds,
            "median_seconds": self.median_seconds,
            "p90_seconds": self.p90_seconds,
        }


@dataclass(frozen=True, slots=True)
class DirectlyFollowsGraph:
    """Edges sorted by count (descending), then by source and target name."""

    edges: list[Edge]
    activity_counts: dict[str, int]

    def counts(self) -> dict[tuple[str, str], int]:
        return {(e.source, e.target): e.count for e in self.edges}

    def to_json(self) -> dict[str, Any]:
        return {
            "activities": self.activity_counts,
            "edges": [e.to_json() for e in self.edges],
        }


def directly_follows_frame(log: EventLog) -> pl.DataFrame:
    """One row per edge: source, target, count, mean/median/p90 seconds."""
    events = log.events
    following = events.select(
        pl.col(ACTIVITY).alias("source"),
        pl.col(ACTIVITY).shift(-1).alias("target"),
        seconds(pl.col(TIMESTAMP).shift(-1) - pl.col(TIMESTAMP)).alias("gap"),
        (pl.col(CASE) == pl.col(CASE).shift(-1)).alias("same_case"),
    ).filter(pl.col("same_case"))
    return (
        following.group_by("source", "target")
        .agg(pl.len().alias("count"), *duration_stats(pl.col("gap")))
        .sort(["count", "source", "target"], descending=[True, False, False])
    )


def directly_follows(log: EventLog) -> DirectlyFollowsGraph:
    """The directly-follows graph of `log` (use `log.completions()` for start/complete logs)."""
    frame = directly_follows_frame(log)
    edges = [
        Edge(
            source=row["source"],
            target=row["target"],
            count=int(row["count"]),
            mean_seconds=row["mean_seconds"],
            median_seconds=row["median_seconds"],
            p90_seconds=row["p90_seconds"],
        )
        for row in frame.iter_rows(named=True)
    ]
    activity_counts = (
        log.events.group_by(ACTIVITY)
        .len()
        .sort(["len", ACTIVITY], descending=[True, False])
        .iter_rows()
    )
    return DirectlyFollowsGraph(edges, {str(a): int(n) for a, n in activity_counts})
