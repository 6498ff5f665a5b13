"""Variants: the distinct activity sequences cases follow, with how many cases follow each.

A few variants usually cover most cases; the long tail shows exceptions and rework worth a look.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from flowdesk.analytics.log import ACTIVITY, CASE, TIMESTAMP, EventLog, duration_stats, seconds


@dataclass(frozen=True, slots=True)
class Variant:
    activities: tuple[str, ...]
    count: int
    share: float
    mean_seconds: float | None
    median_seconds: float | None
    p90_seconds: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "activities": list(self.activities),
            "count": self.count,
            "share": self.share,
            "mean_seconds": self.mean_seconds,
            "median_seconds": self.median_seconds,
            "p90_seconds": self.p90_seconds,
        }


def variants_frame(log: EventLog) -> pl.DataFrame:
    """One row per variant: `activities` (list of names), count, share, duration statistics."""
    if log.events.height == 0:
        return pl.DataFrame(
            schema={"activities": pl.List(pl.String), "count": pl.UInt32, "share": pl.Float64}
        )
    codes = log.events.select(pl.col(ACTIVITY).unique().sort()).to_series()
    index = pl.int_range(codes.len(), dtype=pl.UInt32, eager=True)
    per_case = (
        log.events.select(
            CASE,
            # the Enum's physical codes follow `codes` (sorted names): one lookup per event
            pl.col(ACTIVITY).cast(pl.Enum(codes.to_list())).to_physical().alias("code"),
            TIMESTAMP,
        )
        .group_by(CASE)
        .agg(
            pl.col("code"),
            seconds(pl.col(TIMESTAMP).max() - pl.col(TIMESTAMP).min()).alias("duration"),
        )
    )
    cases = per_case.height
    grouped = (
        per_case.group_by("code")
        .agg(pl.len().alias("count"), *duration_stats(pl.col("duration")))
        .with_columns((pl.col("count") / cases).alias("share"))
    )
    names = grouped.select(
        pl.col("code").list.eval(pl.element().replace_strict(index, codes)).alias("activities")
    )
    return (
        grouped.with_columns(names)
        .drop("code")
        .sort(["count", "activities"], descending=[True, False])
        .select("activities", "count", "share", "mean_seconds", "median_seconds", "p90_seconds")
    )


def variants(log: EventLog) -> list[Variant]:
    """Variants, most frequent first (ties in the order of their activity sequences)."""
    return [
        Variant(
            activities=tuple(row["activities"]),
            count=int(row["count"]),
            share=float(row["share"]),
            mean_seconds=row["mean_seconds"],
            median_seconds=row["median_seconds"],
            p90_seconds=row["p90_seconds"],
        )
        for row in variants_frame(log).iter_rows(named=True)
    ]


def variant_counts(log: EventLog) -> dict[tuple[str, ...], int]:
    """Distinct activity sequences and how many cases follow each (what the inductive miner
    needs), without the durations `variants` computes: grouped on integer codes in Polars."""
    if log.event_count == 0:
        return {}
    names = log.events.get_column(ACTIVITY).unique().sort()
    coded = log.events.select(
        CASE, pl.col(ACTIVITY).cast(pl.Enum(names.to_list())).to_physical().alias("code")
    )
    grouped = coded.group_by(CASE).agg("code").group_by("code").len()
    table = names.to_list()
    return {tuple(table[i] for i in codes): int(n) for codes, n in grouped.iter_rows()}
