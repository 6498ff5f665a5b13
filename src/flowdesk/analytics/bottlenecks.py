"""Bottlenecks: per activity, how long work waits before it starts and how long it takes.

Where the log records both the start and the completion of an activity (XES lifecycle
`start`/`complete`, or Flowdesk's element activated/completed), each start is paired with the
next completion of the same activity in the same case (first in, first out). Working time is
start -> complete; waiting time is from the previous completion in the case to the start. An
activity with long waits and short work is a queue to staff; long work is a step to simplify.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from flowdesk.analytics.log import (
    ACTIVITY,
    CASE,
    DEPARTMENT,
    LIFECYCLE,
    ORDER,
    RESOURCE,
    TIME_DTYPE,
    TIMESTAMP,
    EventLog,
    duration_stats,
    seconds,
)


@dataclass(frozen=True, slots=True)
class Bottleneck:
    activity: str
    instances: int
    waiting_mean_seconds: float | None
    waiting_median_seconds: float | None
    waiting_p90_seconds: float | None
    working_mean_seconds: float | None
    working_median_seconds: float | None
    working_p90_seconds: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "activity": self.activity,
            "instances": self.instances,
            "waiting": {
                "mean_seconds": self.waiting_mean_seconds,
                "median_seconds": self.waiting_median_seconds,
                "p90_seconds": self.waiting_p90_seconds,
            },
            "working": {
                "mean_seconds": self.working_mean_seconds,
                "median_seconds": self.working_median_seconds,
                "p90_seconds": self.working_p90_seconds,
            },
        }


def activity_instances(log: EventLog) -> pl.DataFrame:
    """One row per completed activity instance: case, activity, start (nullable), end, ...

    Completions without a matching start keep `start` null; starts never completed are dropped.
    `waiting` is seconds from the latest earlier completion in the case to `start` (null for
    the first activity of a case or without a start), `working` is seconds from start to end.
    """
    events = log.events
    lifecycle = pl.col(LIFECYCLE).str.to_lowercase()
    rank = pl.int_range(pl.len()).over(CASE, ACTIVITY)
    starts = events.filter(lifecycle == "start").select(
        CASE, ACTIVITY, pl.col(TIMESTAMP).alias("start"), rank.alias("n")
    )
    ends = events.filter(lifecycle.is_null() | (lifecycle == "complete")).select(
        CASE, ACTIVITY, pl.col(TIMESTAMP).alias("end"), RESOURCE, DEPARTMENT, ORDER
    )
    if starts.height == 0:  # completions only: nothing to pair, no waiting or working time
        return ends.with_columns(
            pl.lit(None, dtype=TIME_DTYPE).alias("start"),
            pl.lit(None, dtype=TIME_DTYPE).alias("previous_end"),
            pl.lit(None, dtype=pl.Float64).alias("waiting"),
            pl.lit(None, dtype=pl.Float64).alias("working"),
        )
    ends = ends.with_columns(rank.alias("n"))
    paired = ends.join(starts, on=[CASE, ACTIVITY, "n"], how="left").drop("n")
    previous_end = (
        ends.select(CASE, pl.col("end").alias("previous_end"))
        .sort(CASE, "previous_end")
        .set_sorted("previous_end")
    )
    with_start = paired.filter(pl.col("start").is_not_null()).sort(CASE, "start")

    def latest_end(exact: bool, name: str) -> pl.DataFrame:
        return with_start.join_asof(
            previous_end.rename({"previous_end": name}),
            left_on="start",
            right_on=name,
            by=CASE,
            strategy="backward",
            allow_exact_matches=exact,
            check_sortedness=False,
        ).select(CASE, ORDER, name)

    # An instance with start == end must not count its own completion as the previous one.
    waited = (
        latest_end(True, "inclusive")
        .join(latest_end(False, "strict"), on=[CASE, ORDER])
        .join(paired.select(CASE, ORDER, "start", "end"), on=[CASE, ORDER])
        .select(
            CASE,
            ORDER,
            pl.when(pl.col("start") == pl.col("end"))
            .then(pl.col("strict"))
            .otherwise(pl.col("inclusive"))
            .alias("previous_end"),
        )
    )
    return (
        paired.join(waited, on=[CASE, ORDER], how="left")
        .with_columns(
            seconds(pl.col("start") - pl.col("previous_end")).alias("waiting"),
            seconds(pl.col("end") - pl.col("start")).alias("working"),
        )
        .sort(CASE, "end", ORDER)
    )


def bottlenecks(log: EventLog) -> list[Bottleneck]:
    """Per activity, waiting and working time; longest mean waiting first."""
    frame = (
        activity_instances(log)
        .group_by(ACTIVITY)
        .agg(
            pl.len().alias("instances"),
            *duration_stats(pl.col("waiting"), "waiting_"),
            *duration_stats(pl.col("working"), "working_"),
        )
        .sort(["waiting_mean_seconds", ACTIVITY], descending=[True, False], nulls_last=True)
    )
    return [
        Bottleneck(
            activity=row[ACTIVITY],
            instances=int(row["instances"]),
            waiting_mean_seconds=row["waiting_mean_seconds"],
            waiting_median_seconds=row["waiting_median_seconds"],
            waiting_p90_seconds=row["waiting_p90_seconds"],
            working_mean_seconds=row["working_mean_seconds"],
            working_median_seconds=row["working_median_seconds"],
            working_p90_seconds=row["working_p90_seconds"],
        )
        for row in frame.iter_rows(named=True)
    ]
