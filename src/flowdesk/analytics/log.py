"""The event-log table every mining function works on: one columnar frame, one row per event.

Mining is a handful of group-bys over (case, activity, timestamp); holding the log as a Polars
frame makes each of them one vectorised pass instead of a Python loop per event, which is what
lets a million-event log be mined in well under a second. The frame is always sorted by case,
then timestamp, then arrival order (a stable order for equal timestamps), so "directly follows"
is simply "the next row of the same case".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from flowdesk.core.errors import ModelError

CASE = "case"
ACTIVITY = "activity"
TIMESTAMP = "timestamp"
LIFECYCLE = "lifecycle"
RESOURCE = "resource"
DEPARTMENT = "department"
#: Arrival position of the event in its source; breaks ties between equal timestamps.
ORDER = "order"

CORE_COLUMNS = (CASE, ACTIVITY, TIMESTAMP, LIFECYCLE, RESOURCE, DEPARTMENT)
TIME_DTYPE = pl.Datetime("us", "UTC")
_STRING_COLUMNS = (CASE, ACTIVITY, LIFECYCLE, RESOURCE, DEPARTMENT)


@dataclass(frozen=True, slots=True)
class EventLog:
    """An event log: `events` (one row per event) and `cases` (one row per case, attributes).

    `events` has the core columns (case, activity, timestamp, lifecycle, resource, department),
    `order`, and any further attribute columns. `cases` has `case` plus case attributes.
    Build one with `EventLog.from_frame` or `EventLog.from_records`, which validate and sort.
    """

    events: pl.DataFrame
    cases: pl.DataFrame

    @classmethod
    def from_frame(
        cls, events: pl.DataFrame, cases: pl.DataFrame | None = None, *, sort: bool = True
    ) -> EventLog:
        """Validate, complete and sort a frame with at least `case` and `activity` columns."""
        for required in (CASE, ACTIVITY):
            if required not in events.columns:
                raise ModelError(f"event log has no '{required}' column")
        columns: list[pl.Expr] = []
        for name in _STRING_COLUMNS:
            if name in events.columns:
                columns.append(pl.col(name).cast(pl.String))
            else:
                columns.append(pl.lit(None, dtype=pl.String).alias(name))
        if TIMESTAMP in events.columns:
            columns.append(_as_utc(events.schema[TIMESTAMP]).alias(TIMESTAMP))
        else:
            columns.append(pl.lit(None, dtype=TIME_DTYPE).alias(TIMESTAMP))
        if ORDER not in events.columns:
            columns.append(pl.int_range(pl.len(), dtype=pl.Int64).alias(ORDER))
        frame = events.with_columns(columns)
        if frame.select(pl.col(CASE).is_null().any() | pl.col(ACTIVITY).is_null().any()).item():
            raise ModelError("every event needs a case and an activity")
        extra = [c for c in frame.columns if c not in (*CORE_COLUMNS, ORDER)]
        frame = frame.select(*CORE_COLUMNS, ORDER, *extra)
        if sort:
            frame = frame.sort(CASE, TIMESTAMP, ORDER, nulls_last=False, maintain_order=True)
        if cases is None:
            cases = frame.select(pl.col(CASE).unique(maintain_order=True))
        elif CASE not in cases.columns:
            raise ModelError("case table has no 'case' column")
        return cls(frame, cases)

    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, Any]],
        cases: Iterable[Mapping[str, Any]] | None = None,
    ) -> EventLog:
        """A log from dicts (handy in tests and for small in-memory logs)."""
        rows = list(records)
        if not rows:
            return cls.empty()
        keys: dict[str, None] = {}
        for row in rows:
            keys.update(dict.fromkeys(row))
        data = {key: [row.get(key) for row in rows] for key in keys}
        frame = pl.DataFrame(data, strict=False, infer_schema_length=None)
        case_frame = None
        if cases is not None:
            case_rows = list(cases)
            case_frame = pl.DataFrame(case_rows, infer_schema_length=None) if case_rows else None
        return cls.from_frame(frame, case_frame)

    @classmethod
    def empty(cls) -> EventLog:
        schema: dict[str, Any] = {name: pl.String for name in CORE_COLUMNS}
        schema[TIMESTAMP] = TIME_DTYPE
        schema[ORDER] = pl.Int64
        frame = pl.DataFrame(schema=schema).select(*CORE_COLUMNS, ORDER)
        return cls(frame, pl.DataFrame(schema={CASE: pl.String}))

    @property
    def event_count(self) -> int:
        return self.events.height

    @property
    def case_count(self) -> int:
        return int(self.events.select(pl.col(CASE).n_unique()).item()) if self.events.height else 0

    @property
    def attribute_columns(self) -> list[str]:
        """Event columns beyond the core ones (XES keys such as `cost:total`)."""
        return [c for c in self.events.columns if c not in (*CORE_COLUMNS, ORDER)]

    def has_lifecycle_starts(self) -> bool:
        """Whether some events record the start of an activity (not only its completion)."""
        return bool(
            self.events.select(
                (pl.col(LIFECYCLE).str.to_lowercase() == "start").fill_null(False).any()
            ).item()
        )

    def completions(self) -> EventLog:
        """Only the events that complete an activity (lifecycle `complete` or none recorded).

        A process map over start and complete events would show every activity following
        itself; process maps and variants are therefore drawn from completions.
        """
        done = pl.col(LIFECYCLE).is_null() | (pl.col(LIFECYCLE).str.to_lowercase() == "complete")
        return EventLog(self.events.filter(done), self.cases)

    def filter_cases(self, cases: Iterable[str]) -> EventLog:
        keep = pl.Series(list(cases), dtype=pl.String).implode()
        return EventLog(
            self.events.filter(pl.col(CASE).is_in(keep)),
            self.cases.filter(pl.col(CASE).is_in(keep)),
        )


def _as_utc(dtype: pl.DataType) -> pl.Expr:
    column = pl.col(TIMESTAMP)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            column = column.dt.replace_time_zone("UTC")
        return column.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    if dtype == pl.String:
        return column.str.to_datetime(time_zone="UTC", time_unit="us")
    if dtype == pl.Null:
        return column.cast(TIME_DTYPE)
    raise ModelError(f"timestamp column has type {dtype}, expected a datetime")


def seconds(expr: pl.Expr) -> pl.Expr:
    """A Duration expression as float seconds (what JSON output and KPIs report)."""
    return expr.dt.total_microseconds() / 1_000_000


def duration_stats(expr: pl.Expr, prefix: str = "") -> list[pl.Expr]:
    """Mean, median and 90th percentile (linear interpolation, as numpy) of float seconds."""
    return [
        expr.mean().alias(f"{prefix}mean_seconds"),
        expr.median().alias(f"{prefix}median_seconds"),
        expr.quantile(0.9, interpolation="linear").alias(f"{prefix}p90_seconds"),
    ]
