"""Event logs too big for memory: streamed into Parquet, mined with Polars' streaming engine.

`read_xes` holds the whole event table (about 100 bytes an event with its strings), so ten
million events need gigabytes. `import_xes` instead hands each batch of the XES reader to a
Parquet file as soon as it is read, and the figures `flowdesk mine` prints (directly-follows
counts, variants with their durations, start and end activities, turnaround) come from
`mining_figures`, a streaming group-by per case and then per variant, over a share of the
cases (by hash) of about a million events at a time: what it holds grows with the number of
cases (a duration each) and variants, not with the events.

`scan_events` is the one entry point for columnar event data, whatever wrote it (this import,
or Parquet archives of Flowdesk's own event log): give it Parquet paths, get a LazyFrame with
the schema in its docstring.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

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
)
from flowdesk.analytics.xes import TRACE, stream_xes
from flowdesk.core.errors import ModelError

#: The columns `scan_events` returns, with their types.
SCHEMA: dict[str, Any] = {
    CASE: pl.String,
    ACTIVITY: pl.String,
    TIMESTAMP: TIME_DTYPE,
    LIFECYCLE: pl.String,
    RESOURCE: pl.String,
    DEPARTMENT: pl.String,
    ORDER: pl.Int64,
}
EVENTS_FILE = "events.parquet"
#: `mining_figures` groups the cases of about this many events at a time (hash of the case).
PARTITION_EVENTS = 1_000_000
CASES_FILE = "cases.parquet"


def scan_events(paths: Sequence[str | Path]) -> pl.LazyFrame:
    """The events of Parquet files (a folder stands for its `events*.parquet`), lazily.

    Schema, one row per event, in this column order:

    - ``case`` (String, required): the case (process instance) the event belongs to;
    - ``activity`` (String, required): what happened, the activity name;
    - ``timestamp`` (Datetime[us, UTC]): when; a naive datetime is read as UTC;
    - ``lifecycle`` (String): e.g. ``complete``/``start`` (XES lifecycle:transition), or null;
    - ``resource`` (String): who did it, or null;
    - ``department`` (String): the resource's group (XES org:group), or null;
    - ``order`` (Int64): arrival position within its file, breaking timestamp ties.

    Optional columns a file lacks come back as nulls (``order`` as the row number), so files
    written by different producers (this XES import, event-log archives) scan together; other
    columns are left out. Only file metadata is read here; rows stream when collected.
    """
    files = _files(paths)
    if not files:
        raise ModelError("no Parquet files to read events from")
    frames = []
    for path in files:
        frame = pl.scan_parquet(path)
        names = frame.collect_schema().names()
        for required in (CASE, ACTIVITY):
            if required not in names:
                raise ModelError(f"{path} has no '{required}' column")
        columns: list[pl.Expr] = []
        for name, dtype in SCHEMA.items():
            if name == TIMESTAMP and name in names:
                columns.append(_utc(frame.collect_schema()[name]).alias(name))
            elif name in names:
                columns.append(pl.col(name).cast(dtype))
            elif name == ORDER:
                columns.append(pl.int_range(pl.len(), dtype=pl.Int64).alias(ORDER))
            else:
                columns.append(pl.lit(None, dtype=dtype).alias(name))
        frames.append(frame.select(columns))
    return pl.concat(frames, how="vertical")


def _files(paths: Iterable[str | Path]) -> list[Path]:
    found: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            found += sorted(path.glob("events*.parquet"))
        elif path.exists():
            found.append(path)
        else:
            raise ModelError(f"no such file: {path}")
    return found


def _utc(dtype: pl.DataType) -> pl.Expr:
    column = pl.col(TIMESTAMP)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            column = column.dt.replace_time_zone("UTC")
        return column.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    if dtype == pl.String:
        return column.str.to_datetime(time_zone="UTC", time_unit="us", strict=False)
    return column.cast(TIME_DTYPE)


@dataclass(frozen=True, slots=True)
class ColumnarImport:
    """Where `import_xes` put a log, and how much it held."""

    directory: Path
    events: int
    cases: int
    batches: int

    def to_json(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "events": self.events,
            "cases": self.cases,
            "batches": self.batches,
        }


def import_xes(
    source: str | Path | bytes | IO[bytes], directory: str | Path, *, filename: str | None = None
) -> ColumnarImport:
    """Stream an XES log into `directory` as events.parquet (every column of the `scan_events`
    schema, then the event attributes as text) and cases.parquet (case, trace attributes).

    Batches are written as they are read and joined to their case names in a streaming pass
    at the end, so memory holds a batch and the case table, never the log. On a problem in the
    file nothing is left in `directory` (the batches written so far are removed)."""
    target = Path(directory)
    parts = target / ".parts"
    if parts.exists():
        shutil.rmtree(parts)
    parts.mkdir(parents=True)
    schema: dict[str, pl.DataType] = {}
    written: list[Path] = []
    events = 0

    def sink(frame: pl.DataFrame) -> None:
        nonlocal events
        path = parts / f"{len(written):06d}.parquet"
        frame.write_parquet(path, statistics=False)
        written.append(path)
        events += frame.height
        for name, dtype in frame.schema.items():
            schema.setdefault(name, dtype)

    try:
        cases = stream_xes(source, sink, filename=filename)
        cases.write_parquet(target / CASES_FILE)
        names = cases.lazy().select(TRACE, CASE)
        order = [
            pl.col(n) if n in schema or n == CASE else pl.lit(None, dtype=t).alias(n)
            for n, t in SCHEMA.items()
        ]
        order += [pl.col(n) for n in schema if n not in SCHEMA and n != TRACE]
        if written:
            batches = pl.scan_parquet(written, schema=schema, missing_columns="insert")
            joined = batches.join(names, on=TRACE, how="left", maintain_order="left")
            joined.select(order).sink_parquet(target / EVENTS_FILE)
        else:
            empty = {name: SCHEMA[name] for name in SCHEMA}
            pl.DataFrame(schema=empty).write_parquet(target / EVENTS_FILE)
    except BaseException:
        for name in (EVENTS_FILE, CASES_FILE):
            (target / name).unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(parts, ignore_errors=True)
    return ColumnarImport(target, events, cases.height, len(written))


def mining_figures(
    events: pl.LazyFrame, *, source: str, top: int | None = None, all_events: bool = False
) -> dict[str, Any]:
    """What `flowdesk mine --json` prints (as `mining_report`), from a streaming scan.

    Completions only where the log records activity starts (as `mining_report`), unless
    `all_events`. Edges carry counts, not durations: an exact median wait per edge would hold
    every wait (they are null here). Variants carry their count, share and duration statistics."""
    lifecycle = "all"
    if not all_events:
        starts = events.select(
            (pl.col(LIFECYCLE).str.to_lowercase() == "start").fill_null(False).any()
        )
        if starts.collect(engine="streaming").item():
            done = pl.col(LIFECYCLE).is_null() | (
                pl.col(LIFECYCLE).str.to_lowercase() == "complete"
            )
            events = events.filter(done)
            lifecycle = "complete"
    names = events.select(pl.col(ACTIVITY).unique()).collect(engine="streaming").to_series().sort()
    labels = names.to_list()
    total = int(events.select(pl.len()).collect(engine="streaming").item())
    parts = max(1, -(-total // PARTITION_EVENTS))
    pieces = []
    for part in range(parts):  # a share of the cases at a time: their lists stay small
        chosen = events if parts == 1 else events.filter(pl.col(CASE).hash(7) % parts == part)
        per_case = chosen.group_by(CASE).agg(
            pl.col(ACTIVITY)
            .cast(pl.Enum(labels))
            .to_physical()
            .sort_by(TIMESTAMP, ORDER, nulls_last=False)
            .alias("codes"),
            (pl.col(TIMESTAMP).max() - pl.col(TIMESTAMP).min())
            .dt.total_microseconds()
            .truediv(1e6)
            .alias("duration"),
        )
        grouped = per_case.group_by("codes").agg(pl.col("duration"))
        pieces.append(grouped.collect(engine="streaming"))
    durations = pl.concat(pieces).group_by("codes").agg(pl.col("duration").explode())
    p90 = pl.element().quantile(0.9, interpolation="linear")
    per_variant = durations.select(
        "codes",
        pl.col("duration").list.len().alias("count"),
        pl.col("duration").list.mean().alias("mean_seconds"),
        pl.col("duration").list.median().alias("median_seconds"),
        pl.col("duration").list.eval(p90).list.first().alias("p90_seconds"),
    )
    every = durations.select(pl.col("duration").explode())
    turnaround = every.select(
        pl.col("duration").mean().alias("mean_seconds"),
        pl.col("duration").median().alias("median_seconds"),
        pl.col("duration").quantile(0.9, interpolation="linear").alias("p90_seconds"),
    )
    cases = int(per_variant.get_column("count").sum()) if per_variant.height else 0
    activities: Counter[str] = Counter()
    edges: Counter[tuple[str, str]] = Counter()
    start: Counter[str] = Counter()
    end: Counter[str] = Counter()
    variants: list[dict[str, Any]] = []
    for row in per_variant.iter_rows(named=True):
        trace = [labels[code] for code in row["codes"]]
        n = int(row["count"])
        if trace:
            start[trace[0]] += n
            end[trace[-1]] += n
        for activity in trace:
            activities[activity] += n
        for pair in zip(trace, trace[1:], strict=False):
            edges[pair] += n
        variants.append(
            {
                "activities": trace,
                "count": n,
                "share": n / cases if cases else 0.0,
                "mean_seconds": row["mean_seconds"],
                "median_seconds": row["median_seconds"],
                "p90_seconds": row["p90_seconds"],
            }
        )
    if variants:  # the order `variants` gives: by count, ties by sequence as Polars sorts it
        ranked = pl.DataFrame(
            {
                "activities": [v["activities"] for v in variants],
                "count": [v["count"] for v in variants],
                "at": range(len(variants)),
            },
            schema={"activities": pl.List(pl.String), "count": pl.Int64, "at": pl.Int64},
        ).sort(["count", "activities"], descending=[True, False])
        variants = [variants[i] for i in ranked.get_column("at")]
    summary = turnaround.row(0, named=True) if turnaround.height else {}
    return {
        "source": source,
        "events": sum(activities.values()),
        "cases": cases,
        "lifecycle": lifecycle,
        "activities": dict(sorted(activities.items(), key=lambda kv: (-kv[1], kv[0]))),
        "edges": [
            {"from": a, "to": b, "count": n, "median_seconds": None, "p90_seconds": None}
            for (a, b), n in sorted(edges.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "variants": variants[:top] if top else variants,
        "variant_count": len(variants),
        "start_activities": dict(sorted(start.items(), key=lambda kv: (-kv[1], kv[0]))),
        "end_activities": dict(sorted(end.items(), key=lambda kv: (-kv[1], kv[0]))),
        "turnaround": {
            "mean_seconds": summary.get("mean_seconds"),
            "median_seconds": summary.get("median_seconds"),
            "p90_seconds": summary.get("p90_seconds"),
        },
    }
