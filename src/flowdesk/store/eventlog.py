"""Reading the event log, and consumers that read from a stored cursor and acknowledge.

Delivery is at least once: `read` never moves the cursor; only `ack` does, so a consumer that
crashes between reading and acknowledging gets the same events again. Consumers must therefore be
idempotent (webhook deliveries carry the event id for that reason).

Why consumers order by (txid, seq) on PostgreSQL: sequence numbers are taken when rows are
inserted, not when transactions commit, so seq 11 can be visible while seq 10 is still in flight;
a cursor at 11 would skip 10 for ever. Each event row records its writing transaction id, and a
consumer reads only events of transactions older than the oldest one still running
(`pg_snapshot_xmin`): all of those have finished, and every later one sorts after the cursor.
Writers never wait for each other (an earlier design serialised them with an advisory lock,
which stopped two workers from committing in parallel). SQLite has one writer at a time, so
there txid is 0 and the order is seq.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import (
    Connection,
    Dialect,
    Row,
    and_,
    func,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from flowdesk.core.clock import Clock, SystemClock
from flowdesk.core.errors import NotFoundError
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent, StoredEvent
from flowdesk.core.ids import IdGenerator
from flowdesk.core.jsonutil import dumps
from flowdesk.store.tables import event_consumers, events

if TYPE_CHECKING:
    from flowdesk.store.store import Store


#: The writing transaction's id on PostgreSQL (xid8 as a bigint).
PG_TXID = "pg_current_xact_id()::text::bigint"
#: Transactions below this id have all finished (committed or rolled back).
PG_HORIZON = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"

_COLUMNS = (
    "id",
    "time",
    "type",
    "schema_version",
    "source",
    "case_id",
    "contact_id",
    "customer_id",
    "process_instance_id",
    "element_id",
    "actor",
    "department",
    "channel",
    "data",
)


class EventWriter:
    """Appends events with one pre-rendered INSERT through the driver.

    Every command appends events, so this is the hottest statement in Flowdesk; building and
    compiling it through SQLAlchemy Core per command cost more than the insert itself
    (benchmarks/store_commit.py). Values are converted exactly as the `events` table's column
    types do, so rows read back through SQLAlchemy are identical.
    """

    def __init__(self, dialect: Dialect):
        self._sqlite = dialect.name == "sqlite"
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        txid = "0" if self._sqlite else PG_TXID
        self.sql = (
            f"INSERT INTO events ({', '.join(_COLUMNS)}, txid) "
            f"VALUES ({', '.join([mark] * len(_COLUMNS))}, {txid})"
        )

    def write(self, connection: Connection, pending: list[NewEvent], ids: IdGenerator) -> None:
        times: dict[datetime, Any] = {}  # the events of a command mostly share one time
        rows = [self._row(e, ids, times) for e in pending]
        # Straight on the DB-API cursor of the unit's connection (same transaction): through
        # exec_driver_sql SQLAlchemy's execution context cost about as much as the insert.
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(self.sql, rows)
        finally:
            cursor.close()

    def _row(self, e: NewEvent, ids: IdGenerator, times: dict[datetime, Any]) -> tuple[Any, ...]:
        when = times.get(e.time)
        if when is None:
            if e.time.tzinfo is None:
                raise ValueError(
                    "naive datetime given to the event log; use the injected Clock (UTC)"
                )
            when = e.time.astimezone(UTC)
            if self._sqlite:  # SQLAlchemy's SQLite DATETIME storage format, UTC wall time
                when = when.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
            times[e.time] = when
        return (
            e.id or ids.new_id(),
            when,
            e.type,
            e.schema_version,
            e.source,
            e.case_id,
            e.contact_id,
            e.customer_id,
            e.process_instance_id,
            e.element_id,
            e.actor,
            e.department,
            e.channel,
            dumps(e.data),
        )


_COLUMN = {c.name: i for i, c in enumerate(events.columns)}
_AT = tuple(_COLUMN[f.name] for f in fields(StoredEvent))  # the constructor's order
_FIELD = {f.name: i for i, f in enumerate(fields(StoredEvent))}
_ID_AT, _TYPE_AT, _DATA_AT = _FIELD["id"], _FIELD["type"], _FIELD["data"]
_ID_COL, _TYPE_COL, _DATA_COL = _COLUMN["id"], _COLUMN["type"], _COLUMN["data"]


def _stored(row: Row[Any]) -> StoredEvent:
    # By position: a row of select(events) has the table's columns in order, and the keyed
    # lookup (row._mapping) cost consumers more than the rest of turning a row into an event.
    return StoredEvent(*(row[i] for i in _AT))


#: The data key of a compact element row (history level `activity`, runtime/processes.py): an
#: element.completed row whose element was activated by the same command, right before, with
#: the same time, data and actor. The key holds the activation's event id.
ACTIVATED_ID = "activated_id"
_ACTIVATED = EventType.ELEMENT_ACTIVATED
_COMPLETED = EventType.ELEMENT_COMPLETED


def _expanded(rows: Iterable[Row[Any]]) -> Iterator[StoredEvent]:
    """The events of `rows`, a compact element row read back as the two events it stands for
    (element.activated, then element.completed; both at the row's seq), so every reader sees
    the same log whichever history level wrote it."""
    for row in rows:
        stored = row[_DATA_COL]
        if row[_TYPE_COL] != _COMPLETED or not stored or ACTIVATED_ID not in stored:
            yield _stored(row)
            continue
        # Built by position, like `_stored`: dataclasses.replace cost twice as much here.
        data = {k: v for k, v in stored.items() if k != ACTIVATED_ID}
        values = [row[i] for i in _AT]
        values[_ID_AT], values[_TYPE_AT], values[_DATA_AT] = (
            stored[ACTIVATED_ID],
            _ACTIVATED,
            data,
        )
        yield StoredEvent(*values)
        values[_ID_AT], values[_TYPE_AT], values[_DATA_AT] = row[_ID_COL], _COMPLETED, dict(data)
        yield StoredEvent(*values)


def _stored_types(types: Collection[str]) -> list[str]:
    """The row types that hold events of `types`: activations may be in completed rows."""
    wanted = list(types)
    if _ACTIVATED in wanted and _COMPLETED not in wanted:
        wanted.append(_COMPLETED)
    return wanted


def _merged(archived: Iterator[StoredEvent], live: Iterator[StoredEvent]) -> Iterator[StoredEvent]:
    """Archived and live events in seq order, each once: after a crash between writing a
    month's file and deleting its live rows, both hold the same events."""
    seq, ids = -1, set[str]()
    for event in heapq.merge(archived, live, key=lambda e: e.seq):
        if event.seq != seq:
            seq, ids = event.seq, set[str]()
        if event.id in ids:
            continue
        ids.add(event.id)
        yield event


class Window(NamedTuple):
    """What `EventLog.read_types` found: the matching events, the position to acknowledge
    (None when nothing was after the cursor) and how many events it looked at."""

    events: list[StoredEvent]
    position: int | None
    scanned: int


class EventLog:
    def __init__(self, store: Store, clock: Clock | None = None):
        self._store = store
        self._clock = clock or SystemClock()

    def after(self, position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        with self._store.reading() as conn:
            rows = conn.execute(
                select(events).where(events.c.seq > position).order_by(events.c.seq).limit(limit)
            )
            return list(_expanded(rows))

    def iterate(self, position: int = 0, batch: int = 5000) -> Iterator[StoredEvent]:
        """Every event after `position`, in order, fetched in batches (for exports): the
        archived months (store/archive.py) merged with the live table."""
        yield from _merged(self._archived(position), self._live(position, batch))

    def _archived(
        self,
        position: int,
        instances: Callable[[str | None], bool] | None = None,
        subject: dict[str, str] | None = None,
        months: Collection[str] | None = None,
    ) -> Iterator[StoredEvent]:
        from flowdesk.store.archive import archived_events

        rows = archived_events(self._store.archive_dir, position, subject, months)
        if instances is not None:
            at = _COLUMN["process_instance_id"]
            rows = (r for r in rows if instances(r[at]))
        return _expanded(rows)  # type: ignore[arg-type]

    def _live(self, position: int, batch: int) -> Iterator[StoredEvent]:
        while True:
            chunk = self.after(position, batch)
            yield from chunk
            if len(chunk) < batch:
                return
            position = chunk[-1].seq

    def of_process(self, process_key: str, batch: int = 5000) -> Iterator[StoredEvent]:
        """Every event of the instances of one process (any version), in order, plus events of
        instances this store never ran (imported or migrated history, which the caller sorts
        by the definition named in the data): what the analysis of one process reads, without
        turning the rest of the log into objects."""
        from sqlalchemy import or_

        from flowdesk.store.process_tables import process_instances

        pid = events.c.process_instance_id
        known = select(process_instances.c.id)
        mine = or_(
            pid.in_(known.where(process_instances.c.process_key == process_key)),
            pid.is_not(None) & pid.not_in(known),
        )
        yield from _merged(self._archived_of(process_key), self._live_of(mine, batch))

    def _archived_of(self, process_key: str) -> Iterator[StoredEvent]:
        from flowdesk.store.archive import archive_files
        from flowdesk.store.process_tables import process_instances

        if not archive_files(self._store.archive_dir):
            return iter(())
        with self._store.reading() as conn:
            keys = dict(
                conn.execute(select(process_instances.c.id, process_instances.c.process_key))
                .tuples()
                .all()
            )
        return self._archived(
            0, lambda pid: pid is not None and keys.get(pid, process_key) == process_key
        )

    def _live_of(self, mine: Any, batch: int) -> Iterator[StoredEvent]:
        position = 0
        while True:
            with self._store.reading() as conn:
                rows = conn.execute(
                    select(events)
                    .where(events.c.seq > position, mine)
                    .order_by(events.c.seq)
                    .limit(batch)
                ).all()
            yield from _expanded(rows)
            if len(rows) < batch:
                return
            position = rows[-1]._mapping["seq"]

    def where(self, **subject: str) -> list[StoredEvent]:
        """Events of one subject, e.g. where(case_id=...) or where(process_instance_id=...),
        archived months included."""
        query = select(events).order_by(events.c.seq)
        for column, value in subject.items():
            query = query.where(events.c[column] == value)
        months: list[str] | None = None
        with self._store.reading() as conn:
            live = list(_expanded(conn.execute(query)))
            if len(subject) == 1 and self._store.archive_dir is not None:
                from flowdesk.store.archive import archived_months

                months = archived_months(conn, next(iter(subject.values())))
        # a closed case's timeline may lie in archived months (store/archive.py): only those
        # the archive's subject index names are read, none for a subject never archived
        return list(_merged(self._archived(0, subject=subject, months=months), iter(live)))

    def type_counts(self) -> dict[str, int]:
        """How many events of each type the log holds, as its readers see them: a compact
        element row (history level `activity`) counts as its activation too."""
        with self._store.reading() as conn:
            rows = conn.execute(select(events.c.type, func.count()).group_by(events.c.type))
            counts = {str(kind): int(n) for kind, n in rows}
            compact = conn.execute(
                select(func.count()).where(
                    events.c.type == _COMPLETED,
                    events.c.data[ACTIVATED_ID].as_string().is_not(None),
                )
            ).scalar_one()
        if compact:
            counts[_ACTIVATED] = counts.get(_ACTIVATED, 0) + int(compact)
        return dict(sorted(counts.items()))

    def head(self) -> int:
        with self._store.reading() as conn:
            return int(conn.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one())

    # -- consumers ----------------------------------------------------------------------------

    def register(self, consumer: str, *, from_start: bool = True) -> int:
        """Create the consumer's cursor if missing; returns its position (a seq)."""
        txid, seq = (0, 0) if from_start else self._newest_finished()
        values = {
            "name": consumer,
            "position": seq,
            "position_txid": txid,
            "updated_at": self._clock.now(),
        }
        with self._store.unit_of_work() as uow:
            insert = (
                postgresql.insert(event_consumers)
                if self._store.dialect == "postgresql"
                else sqlite.insert(event_consumers)
            )
            uow.connection.execute(insert.values(**values).on_conflict_do_nothing())
        return self.position(consumer)

    def _finished(self) -> Any:
        """The condition 'written by a transaction that has finished' (always true on SQLite)."""
        if self._store.dialect == "postgresql":
            return events.c.txid < literal_column(PG_HORIZON)
        return true()

    def _newest_finished(self) -> tuple[int, int]:
        with self._store.reading() as conn:
            row = conn.execute(
                select(events.c.txid, events.c.seq)
                .where(self._finished())
                .order_by(events.c.txid.desc(), events.c.seq.desc())
                .limit(1)
            ).first()
        return (0, 0) if row is None else (int(row[0]), int(row[1]))

    def _cursor(self, conn: Connection, consumer: str) -> tuple[int, int]:
        row = conn.execute(
            select(event_consumers.c.position_txid, event_consumers.c.position).where(
                event_consumers.c.name == consumer
            )
        ).first()
        if row is None:
            raise NotFoundError(
                f"event consumer {consumer!r} is not registered", hint="register it first"
            )
        return int(row[0]), int(row[1])

    def position(self, consumer: str) -> int:
        with self._store.reading() as conn:
            return self._cursor(conn, consumer)[1]

    def read(self, consumer: str, limit: int = 100) -> list[StoredEvent]:
        """The next events after the consumer's cursor; does not move the cursor."""
        with self._store.reading() as conn:
            rows = conn.execute(
                select(events)
                .where(self._after(conn, consumer))
                .where(self._finished())
                .order_by(events.c.txid, events.c.seq)
                .limit(limit)
            )
            return list(_expanded(rows))

    def read_types(self, consumer: str, types: Collection[str], limit: int = 500) -> Window:
        """Of the next `limit` events after the cursor, those of the given types. A consumer
        that wants a few types out of a busy log (routing, case closing, surveys) so reads and
        decodes only those; the others are passed over in SQL. Acknowledge `position` (the last
        event looked at, matching or not) once they are handled. Does not move the cursor."""
        with self._store.reading() as conn:
            after = self._after(conn, consumer)
            window = (
                select(events.c.txid, events.c.seq)
                .where(after)
                .where(self._finished())
                .order_by(events.c.txid, events.c.seq)
                .limit(limit)
                .subquery()
            )
            last = conn.execute(
                select(window.c.txid, window.c.seq, func.count().over())
                .order_by(window.c.txid.desc(), window.c.seq.desc())
                .limit(1)
            ).first()
            if last is None:
                return Window([], None, 0)
            txid, seq, scanned = int(last[0]), int(last[1]), int(last[2])
            rows = conn.execute(
                select(events)
                .where(after)
                .where(or_(events.c.txid < txid, and_(events.c.txid == txid, events.c.seq <= seq)))
                .where(events.c.type.in_(_stored_types(types)))
                .order_by(events.c.txid, events.c.seq)
            )
            found = [e for e in _expanded(rows) if e.type in types]
            return Window(found, seq, scanned)

    def _after(self, conn: Connection, consumer: str) -> Any:
        txid, seq = self._cursor(conn, consumer)
        return or_(events.c.txid > txid, and_(events.c.txid == txid, events.c.seq > seq))

    def ack(self, consumer: str, seq: int) -> None:
        """Mark everything up to the event `seq` (in delivery order) as processed. Never moves
        a cursor backwards."""
        with self._store.unit_of_work() as uow:
            conn = uow.connection
            txid = conn.execute(select(events.c.txid).where(events.c.seq == seq)).scalar()
            if txid is None:
                raise NotFoundError(f"no event with sequence {seq}")
            result = conn.execute(
                update(event_consumers)
                .where(event_consumers.c.name == consumer)
                .where(
                    or_(
                        event_consumers.c.position_txid < txid,
                        and_(
                            event_consumers.c.position_txid == txid,
                            event_consumers.c.position < seq,
                        ),
                    )
                )
                .values(position=seq, position_txid=txid, updated_at=self._clock.now())
            )
            if result.rowcount == 0:
                # Either already past seq (fine) or unknown consumer (an error).
                self._cursor(conn, consumer)
