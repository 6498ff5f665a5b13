"""The event log over years: retention per event kind, and closed months archived to Parquet.

Why: the event log only grows, and the live table is what every command, the queue and the
dashboards touch. Events of past months whose cases are closed are moved into one Parquet file
per month (`events-YYYY-MM.parquet`, zstd, the `events` table's columns, `data` as JSON text)
that `read_archive` (and Polars, DuckDB or pm4py directly) read. Events still needed by an open
case or a running process instance stay live (the caller says which: `keep`).

Crash safety of one month: the rows are written to a temporary file, the file is read back and
its row count checked, renamed over the month's file (atomic), and only then are the live rows
deleted, in one transaction. A crash before the rename leaves the live rows and at most a stray
temporary file; a crash after it leaves the rows in both places, which readers see once (they
drop archived rows whose seq is still live) and a re-run merges by seq without duplicating.

On PostgreSQL the live table is partitioned by month (migration 0012): a month whose rows are
all archived has its partition detached and dropped, which returns its disk space at once.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from json import loads
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import (
    BigInteger,
    Connection,
    String,
    Text,
    cast,
    delete,
    false,
    func,
    not_,
    select,
    text,
    true,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from flowdesk.store.crashpoints import crash_point
from flowdesk.store.tables import event_archive_subjects, events

#: The archive files' columns and types: those of the `events` table, `data` as JSON text.
SCHEMA: dict[str, Any] = {
    "seq": pl.Int64,
    "id": pl.String,
    "time": pl.Datetime("us", "UTC"),
    "type": pl.String,
    "schema_version": pl.Int32,
    "source": pl.String,
    "case_id": pl.String,
    "contact_id": pl.String,
    "customer_id": pl.String,
    "process_instance_id": pl.String,
    "element_id": pl.String,
    "actor": pl.String,
    "department": pl.String,
    "channel": pl.String,
    "data": pl.String,
    "txid": pl.Int64,
}
COLUMNS = tuple(SCHEMA)
assert tuple(c.name for c in events.columns) == COLUMNS, "archive schema != events table"
#: The columns naming a subject whose timeline `EventLog.where` reads.
SUBJECTS = ("case_id", "contact_id", "customer_id", "process_instance_id")
FILE = re.compile(r"^events-(\d{4})-(\d{2})\.parquet$")

# -- retention ------------------------------------------------------------------------------

_PERIOD = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)D)?$")


def parse_period(text_: str) -> timedelta:
    """A retention period: PnY and/or PnD (a year is 365 days), e.g. P3Y, P90D, P1Y30D."""
    match = _PERIOD.fullmatch(text_.strip())
    if match is None or text_.strip() == "P":
        raise ValueError(f"{text_!r} is not a retention period like P3Y or P90D")
    years, days = (int(g or 0) for g in match.groups())
    period = timedelta(days=365 * years + days)
    if period <= timedelta(0):
        raise ValueError(f"{text_!r} is zero: a retention period must be at least one day")
    return period


@dataclass(frozen=True, slots=True)
class EventRetention:
    """How long events of each kind are kept (the company file's `retention.events`).

    Keys are event types or glob patterns (`variables.*`); the most specific key that matches
    wins (an exact type, then the longest pattern), `default` covers the rest. None: forever.
    """

    default: timedelta | None = None
    kinds: dict[str, timedelta] = field(default_factory=dict)

    @classmethod
    def parse(cls, found: dict[str, str] | None) -> EventRetention:
        """From the company file's mapping; ValueError names the key that is wrong."""
        default: timedelta | None = None
        kinds: dict[str, timedelta] = {}
        for key, value in (found or {}).items():
            try:
                period = parse_period(str(value))
            except ValueError as exc:
                raise ValueError(f"retention.events.{key}: {exc}") from None
            if key == "default":
                default = period
            else:
                kinds[key] = period
        return cls(default, kinds)

    def period_of(self, event_type: str) -> timedelta | None:
        if event_type in self.kinds:
            return self.kinds[event_type]
        matching = [p for p in self.kinds if fnmatch.fnmatchcase(event_type, p)]
        if matching:
            return self.kinds[max(matching, key=len)]
        return self.default

    def expired(self, frame: pl.DataFrame, now: datetime) -> pl.Series:
        """True for the rows of `frame` (archive columns) past their kind's period."""
        if not self.kinds and self.default is None:
            return pl.Series("expired", [False] * frame.height, dtype=pl.Boolean)
        cut = {t: now - p for t in frame["type"].unique() if (p := self.period_of(t))}
        if not cut:
            return pl.Series("expired", [False] * frame.height, dtype=pl.Boolean)
        cuts = frame["type"].replace_strict(
            cut, default=None, return_dtype=pl.Datetime("us", "UTC")
        )
        return (frame["time"] < cuts).fill_null(False)


# -- reading ------------------------------------------------------------------------------


def archive_files(directory: Path | None) -> list[Path]:
    if directory is None or not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if FILE.match(p.name))


def _file_month(path: Path) -> str:
    return path.name[len("events-") : -len(".parquet")]


def read_archive(
    directory: Path | None,
    *,
    after: int = 0,
    types: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    columns: Sequence[str] = COLUMNS,
    subject: Mapping[str, str] | None = None,
    months: Collection[str] | None = None,
) -> pl.DataFrame:
    """The archived events (in seq order) with seq > `after`, of `types`, with `since` <= time
    < `until`: the one reader of the archive (a lazy Polars scan, so only the files, row groups
    and columns needed are read). The lead may replace it with analytics.columnar's scans."""
    files = archive_files(directory)
    if months is not None:
        files = [f for f in files if f.name[len("events-") : -len(".parquet")] in months]
    # A file holds one month of event times: months outside [since, until) are never opened.
    if since is not None:
        files = [f for f in files if _file_month(f) >= f"{since.astimezone(UTC):%Y-%m}"]
    if until is not None:
        files = [f for f in files if _file_month(f) <= f"{until.astimezone(UTC):%Y-%m}"]
    if not files:
        return pl.DataFrame(schema={c: SCHEMA[c] for c in dict.fromkeys(("seq", *columns))})
    scan = pl.scan_parquet(files)
    if after:
        scan = scan.filter(pl.col("seq") > after)
    if types is not None:
        scan = scan.filter(pl.col("type").is_in(list(types)))
    if since is not None:
        scan = scan.filter(pl.col("time") >= since)
    if until is not None:
        scan = scan.filter(pl.col("time") < until)
    for column, value in (subject or {}).items():
        scan = scan.filter(pl.col(column) == value)
    return scan.select(list(dict.fromkeys(("seq", *columns)))).sort("seq").collect()


def archived_events(
    directory: Path | None,
    after: int = 0,
    subject: Mapping[str, str] | None = None,
    months: Collection[str] | None = None,
) -> Iterator[tuple[Any, ...]]:
    """The archived rows after `after` (of one subject, e.g. case_id=..., in `months`) as
    tuples in the `events` table's column order (data decoded), for `EventLog` to merge."""
    if not archive_files(directory) or (months is not None and not months):
        return
    frame = read_archive(directory, after=after, subject=subject, months=months)
    data_at = COLUMNS.index("data")
    for row in frame.iter_rows():
        values = list(row)
        values[data_at] = loads(values[data_at]) if values[data_at] else {}
        yield tuple(values)


# -- writing --------------------------------------------------------------------------------


def month_of(moment: datetime | date) -> date:
    return date(moment.year, moment.month, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_file(directory: Path, month: date) -> Path:
    return directory / f"events-{month:%Y-%m}.parquet"


def _start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_month(directory: Path, month: date, frame: pl.DataFrame) -> int:
    """Replace the month's file by `frame` atomically: temporary file, fsync, row count read
    back, rename, fsync of the directory. Returns the rows written."""
    directory.mkdir(parents=True, exist_ok=True)
    target = month_file(directory, month)
    temporary = target.with_suffix(".parquet.tmp")
    frame = frame.select(COLUMNS).sort("seq")
    frame.write_parquet(temporary, compression="zstd", statistics=True)
    with open(temporary, "rb+") as handle:
        os.fsync(handle.fileno())
    written = int(pl.scan_parquet(temporary).select(pl.len()).collect().item())
    if written != frame.height:
        temporary.unlink(missing_ok=True)
        raise OSError(f"{temporary}: {written} rows read back, {frame.height} written")
    os.replace(temporary, target)
    _fsync_dir(directory)
    return written


def _raw(column: Any, sqlite: bool) -> Any:
    """The column as the driver gives it, without SQLAlchemy's per-row conversion (the cost
    of archiving was mostly that): data as JSON text, on SQLite the time as its stored text."""
    if column.name == "data":
        return cast(column, Text).label("data")
    if column.name == "time" and sqlite:
        return type_coerce(column, String).label("time")
    return column


#: SQLAlchemy's SQLite DATETIME text (UTC wall time).
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S%.f"


def _frame(rows: Sequence[Sequence[Any]], sqlite: bool = False) -> pl.DataFrame:
    """Rows of the `events` columns as an archive frame, built column by column."""
    if not rows:
        return pl.DataFrame(schema=SCHEMA)
    values = dict(zip(COLUMNS, (list(c) for c in zip(*rows, strict=True)), strict=True))
    schema = dict(SCHEMA)
    schema["time"] = pl.String if sqlite else pl.Datetime("us", "UTC")
    frame = pl.DataFrame(values, schema=schema)
    if sqlite:
        parsed = pl.col("time").str.to_datetime(_SQLITE_TIME, time_unit="us", time_zone="UTC")
        frame = frame.with_columns(parsed)
    return frame


@dataclass
class MonthReport:
    month: str
    archived: int = 0
    expired: int = 0
    kept_live: int = 0
    file: str | None = None
    partition_dropped: bool = False


@dataclass
class ArchiveReport:
    months: list[MonthReport] = field(default_factory=list)
    expired_live: int = 0
    expired_archived: int = 0

    @property
    def archived(self) -> int:
        return sum(m.archived for m in self.months)


def live_months(conn: Connection, before: date) -> list[date]:
    """The months before `before` that still hold live events."""
    first = conn.execute(
        select(func.min(events.c.time)).where(events.c.time < _start(before))
    ).scalar()
    if first is None:
        return []
    months, month = [], month_of(first)
    while month < before:
        months.append(month)
        month = next_month(month)
    return months


def archive_month(
    store: Any,
    directory: Path,
    month: date,
    *,
    keep: ColumnElement[bool] | None,
    retention: EventRetention,
    now: datetime,
    batch: int = 20_000,
) -> MonthReport:
    """Move the month's live events that `keep` does not hold back into its Parquet file
    (merged with what the file already has), dropping those past their retention."""
    report = MonthReport(f"{month:%Y-%m}")
    start, end = _start(month), _start(next_month(month))
    in_month = (events.c.time >= start) & (events.c.time < end)
    movable = in_month & _not_kept(keep)
    sqlite = store.dialect == "sqlite"
    columns = [_raw(c, sqlite) for c in events.columns]
    chunks: list[pl.DataFrame] = []
    # A transaction of its own, not `store.reading()`: PostgreSQL reads run in autocommit,
    # and the server-side cursor that streams the month needs a transaction block.
    with store.engine.connect() as conn, conn.begin():
        result = conn.execution_options(yield_per=batch).execute(
            select(*columns).where(movable).order_by(events.c.seq)
        )
        for part in result.partitions(batch):
            chunks.append(_frame(part, sqlite))
        report.kept_live = int(
            conn.execute(select(func.count()).where(in_month & ~movable)).scalar_one()
        )
    target = month_file(directory, month)
    fresh = pl.concat(chunks) if chunks else _frame([])
    if fresh.height == 0:
        report.file = str(target) if target.exists() else None
        _drop_empty_partition(store, month, report)
        return report
    merged = fresh
    if target.exists():
        old = pl.read_parquet(target)
        merged = pl.concat([old, fresh]).unique(subset="seq", keep="first")
    expired = retention.expired(merged, now)
    report.expired = int(expired.sum())
    merged = merged.filter(~expired)
    write_month(directory, month, merged)
    report.file = str(target)
    crash_point("archive-written")
    seqs = fresh["seq"].to_list()
    report.archived = len(seqs) - int(retention.expired(fresh, now).sum())
    subjects = (
        fresh.select(pl.concat_list(list(SUBJECTS)).alias("s"))
        .explode("s")
        .drop_nulls()
        .unique()["s"]
        .to_list()
    )
    with store.unit_of_work() as uow:
        _index_subjects(uow.connection, subjects, report.month)
        _delete_seqs(uow.connection, seqs)
    _drop_empty_partition(store, month, report)
    return report


def _not_kept(keep: ColumnElement[bool] | None) -> ColumnElement[bool]:
    """NOT keep, where a NULL (an event without the column keep looks at) counts as not kept."""
    return true() if keep is None else not_(func.coalesce(keep, false()))


def _index_subjects(conn: Connection, subjects: list[str], month: str) -> None:
    """Record that `month` holds events of these subjects (event_archive_subjects)."""
    insert = (
        postgresql.insert(event_archive_subjects)
        if conn.dialect.name == "postgresql"
        else sqlite.insert(event_archive_subjects)
    ).on_conflict_do_nothing()
    for at in range(0, len(subjects), 5000):
        rows = [{"subject": s, "month": month} for s in subjects[at : at + 5000]]
        conn.execute(insert, rows)


def archived_months(conn: Connection, subject: str) -> list[str]:
    """The archived months that hold events of `subject` (an id of any kind)."""
    return list(
        conn.execute(
            select(event_archive_subjects.c.month).where(
                event_archive_subjects.c.subject == subject
            )
        ).scalars()
    )


def _delete_seqs(conn: Connection, seqs: list[int]) -> None:
    """One DELETE joined to a temporary table of the archived seqs (an IN list per 900 seqs
    cost more in compiling statements than in deleting)."""
    conn.exec_driver_sql("CREATE TEMPORARY TABLE IF NOT EXISTS archived_seqs (seq BIGINT)")
    conn.exec_driver_sql("DELETE FROM archived_seqs")
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(f"INSERT INTO archived_seqs VALUES ({mark})", [(s,) for s in seqs])
    finally:
        cursor.close()
    archived = text("SELECT seq FROM archived_seqs").columns(seq=BigInteger)
    conn.execute(delete(events).where(events.c.seq.in_(archived)))
    conn.exec_driver_sql("DELETE FROM archived_seqs")


def _drop_empty_partition(store: Any, month: date, report: MonthReport) -> None:
    """On PostgreSQL, detach and drop the month's partition once nothing in it is live."""
    if store.dialect != "postgresql":
        return
    name = partition_name(month)
    with store.unit_of_work() as uow:
        conn = uow.connection
        exists = conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar()
        if exists is None:
            return
        if conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {name})")).scalar():
            return
        conn.execute(text(f"ALTER TABLE events DETACH PARTITION {name}"))
        conn.execute(text(f"DROP TABLE {name}"))
    report.partition_dropped = True


def expire_live(
    store: Any, retention: EventRetention, now: datetime, keep: ColumnElement[bool] | None
) -> int:
    """Delete live events past their kind's retention, except those `keep` holds."""
    if not retention.kinds and retention.default is None:
        return 0
    removed = 0
    with store.unit_of_work() as uow:
        conn = uow.connection
        kinds = [str(t) for t in conn.execute(select(events.c.type).distinct()).scalars()]
        by_period: dict[timedelta, list[str]] = {}
        for kind in kinds:
            period = retention.period_of(kind)
            if period is not None:
                by_period.setdefault(period, []).append(kind)
        for period, types in by_period.items():  # one pass over the table per period
            condition = events.c.type.in_(types) & (events.c.time < now - period)
            condition = condition & _not_kept(keep)
            removed += int(conn.execute(delete(events).where(condition)).rowcount or 0)
    return removed


def expire_archived(directory: Path, retention: EventRetention, now: datetime) -> int:
    """Rewrite the archive files that hold events past their kind's retention."""
    removed = 0
    for path in archive_files(directory):
        frame = pl.read_parquet(path)
        expired = retention.expired(frame, now)
        gone = int(expired.sum())
        if gone:
            match = FILE.match(path.name)
            assert match is not None
            month = date(int(match[1]), int(match[2]), 1)
            if gone == frame.height:
                path.unlink()
                _fsync_dir(directory)
            else:
                write_month(directory, month, frame.filter(~expired))
            removed += gone
    return removed


def archive(
    store: Any,
    directory: Path,
    *,
    before: date,
    keep: ColumnElement[bool] | None,
    retention: EventRetention,
    now: datetime,
    progress: Callable[[str, int, int], None] | None = None,
) -> ArchiveReport:
    """Retention, then every month before `before` archived (see the module's docstring)."""
    report = ArchiveReport()
    maintain_partitions(store, now)
    report.expired_live = expire_live(store, retention, now, keep)
    report.expired_archived = expire_archived(directory, retention, now)
    with store.reading() as conn:
        months = live_months(conn, min(before, month_of(now)))
    for index, month in enumerate(months):
        if progress is not None:
            progress(f"{month:%Y-%m}", index, len(months))
        report.months.append(
            archive_month(store, directory, month, keep=keep, retention=retention, now=now)
        )
    if progress is not None:
        progress("done", len(months), len(months))
    return report


# -- PostgreSQL partitions -----------------------------------------------------------------


def partition_name(month: date) -> str:
    return f"events_{month:%Y_%m}"


def ensure_partitions(conn: Connection, months: Iterable[date]) -> list[str]:
    """Create the monthly partitions of `months` that are missing (PostgreSQL). Rows of such a
    month already in the default partition are moved into the new one in the same transaction."""
    made = []
    for month in sorted(set(months)):
        name = partition_name(month)
        if conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar() is not None:
            continue
        low, high = _start(month).isoformat(), _start(next_month(month)).isoformat()
        bounds = {"low": low, "high": high}
        conn.execute(text(f"CREATE TABLE {name} (LIKE events INCLUDING DEFAULTS)"))
        conn.execute(
            text(
                f"WITH moved AS (DELETE FROM events_default WHERE time >= CAST(:low AS "
                "timestamptz) AND time < CAST(:high AS timestamptz) RETURNING *) "
                f"INSERT INTO {name} SELECT * FROM moved"
            ),
            bounds,
        )
        conn.execute(
            text(
                f"ALTER TABLE events ATTACH PARTITION {name} FOR VALUES FROM ('{low}') TO "
                f"('{high}')"
            )
        )
        made.append(name)
    return made


def upcoming_months(now: datetime, ahead: int = 2) -> list[date]:
    months = [month_of(now)]
    for _ in range(ahead):
        months.append(next_month(months[-1]))
    return months


def maintain_partitions(store: Any, now: datetime) -> list[str]:
    """PostgreSQL: the partitions of this month and the next two, and of every month whose
    rows landed in the default partition (back-dated or imported events). None on SQLite."""
    if store.dialect != "postgresql":
        return []
    with store.unit_of_work() as uow:
        conn = uow.connection
        if conn.execute(text("SELECT to_regclass('events_default')")).scalar() is None:
            return []
        stray = conn.execute(
            text("SELECT DISTINCT date_trunc('month', time AT TIME ZONE 'UTC') FROM events_default")
        ).scalars()
        months = [month_of(m) for m in stray] + upcoming_months(now)
        return ensure_partitions(conn, months)
