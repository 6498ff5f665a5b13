"""The turnaround distribution puts each closed case in the bucket its hours start in (edges
belong to the bucket above), counts only cases closed in the window, and keeps every bucket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from flowdesk.analytics.facts import CASE_SCHEMA
from flowdesk.analytics.kpis import turnaround_histogram

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _cases(*hours: float | None) -> pl.DataFrame:
    rows = [
        {
            **dict.fromkeys(CASE_SCHEMA),
            "case": str(n),
            "opened_at": START,
            "closed_at": None if h is None else START + timedelta(hours=h),
        }
        for n, h in enumerate(hours)
    ]
    return pl.DataFrame(rows, schema=CASE_SCHEMA)


def test_each_case_lands_in_the_bucket_its_hours_start_in() -> None:
    counts = {
        b["bucket"]: b["cases"] for b in turnaround_histogram(_cases(0.5, 1, 3.99, 4, 400, None))
    }
    assert counts["0-1h"] == 1 and counts["1-4h"] == 2 and counts["4-8h"] == 1
    assert counts["336h+"] == 1 and sum(counts.values()) == 5  # the open case is not counted
    assert list(counts)[0] == "0-1h" and len(counts) == 10


def test_only_cases_closed_in_the_window_count() -> None:
    window = turnaround_histogram(_cases(2, 30), since=START, until=START + timedelta(hours=10))
    assert sum(b["cases"] for b in window) == 1
