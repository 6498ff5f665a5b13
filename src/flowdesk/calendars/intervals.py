"""Half-open time intervals [start, end) and the two operations SLA clocks need on them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

#: [start, end); end None means "still open" (a pause that has not ended yet).
Interval = tuple[datetime, datetime | None]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping intervals covering the same instants."""
    ordered = sorted(intervals, key=lambda i: i[0])
    out: list[Interval] = []
    for start, end in ordered:
        if end is not None and end <= start:
            continue
        if out:
            last_start, last_end = out[-1]
            if last_end is None:
                continue
            if start <= last_end:
                new_end = None if end is None else max(end, last_end)
                out[-1] = (last_start, new_end)
                continue
        out.append((start, end))
    return out


def subtract(
    start: datetime, end: datetime, holes: list[Interval]
) -> list[tuple[datetime, datetime]]:
    """Parts of [start, end) not covered by `holes` (merged, sorted)."""
    parts: list[tuple[datetime, datetime]] = []
    cursor = start
    for h_start, h_end in holes:
        if h_end is not None and h_end <= cursor:
            continue
        if h_start >= end:
            break
        if h_start > cursor:
            parts.append((cursor, h_start))
        if h_end is None:
            return parts
        cursor = max(cursor, h_end)
        if cursor >= end:
            return parts
    if cursor < end:
        parts.append((cursor, end))
    return parts
