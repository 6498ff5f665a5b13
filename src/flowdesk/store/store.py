"""The Store: one database, units of work, and the event log on top of it.

One command = one unit of work = one transaction. Events appended during the unit are buffered
and written last, right before COMMIT (see eventlog.py for how consumers read them in an order
that never skips an event of a transaction that commits late).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, text

from flowdesk.core.events import NewEvent
from flowdesk.core.ids import IdGenerator, UuidIds
from flowdesk.store import checkpoint, migrate
from flowdesk.store.crashpoints import crash_point
from flowdesk.store.database import create_database_engine
from flowdesk.store.eventlog import EventLog, EventWriter
from flowdesk.store.groupcommit import GroupCommit
from flowdesk.store.writers import release_gate, writer_gate

T = TypeVar("T")

#: The transaction `Store.one_transaction` opened in this context, which every unit of work
#: and read of the same store joins (see there).
_ambient: ContextVar[UnitOfWork | None] = ContextVar("flowdesk_ambient_unit", default=None)


class UnitOfWork:
    """The transaction of one command. Use `connection` for state, `append` for events."""

    def __init__(self, connection: Connection, ids: IdGenerator, writer: EventWriter):
        self.connection = connection
        self._ids = ids
        self._writer = writer
        self._pending: list[NewEvent] = []
        self._after_commit: list[Callable[[], None]] = []

    def append(self, *new_events: NewEvent) -> None:
        self._pending.extend(new_events)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` only once the transaction committed (wake a worker, notify)."""
        self._after_commit.append(callback)

    def _flush_events(self) -> None:
        if not self._pending:
            return
        self._writer.write(self.connection, self._pending, self._ids)
        self._pending.clear()


class Store:
    def __init__(
        self, engine: Engine, *, ids: IdGenerator | None = None, group_commit: bool | None = None
    ):
        self.engine = engine
        self.dialect = engine.dialect.name
        self.ids = ids or UuidIds()
        self._writer = EventWriter(engine.dialect)
        self._gate = writer_gate(engine)
        # Group commit by default on SQLite only: on PostgreSQL one connection running the
        # commands of a process one after another, a round trip at a time, measured slower
        # than a connection per command (docs/performance.md, "Service API"); it can be asked.
        if group_commit is None:
            group_commit = self.dialect == "sqlite"
        grouped = group_commit and self.dialect in ("sqlite", "postgresql")
        self._group = GroupCommit(self) if grouped else None
        self.events = EventLog(self)
        # Reads on PostgreSQL run without BEGIN and ROLLBACK: at READ COMMITTED every statement
        # takes its own snapshot anyway, so the transaction bought nothing but two round trips.
        self._read_options: dict[str, Any] = {"readonly": True}
        if self.dialect == "postgresql":
            self._read_options["isolation_level"] = "AUTOCOMMIT"
        #: Where closed months of the event log lie as Parquet (store/archive.py); readers of
        #: the whole log (`events.iterate`, mining, KPIs) read them with the live table.
        self.archive_dir: Path | None = None
        database = engine.url.database if self.dialect == "sqlite" else None
        wal_file = database if database and database != ":memory:" else None
        # A store dropped without close() stops being checkpointed when it is collected.
        self._unwatch = (
            weakref.finalize(self, checkpoint.unregister, wal_file) if wal_file else None
        )
        if wal_file is not None:
            checkpoint.register(wal_file)

    @classmethod
    def open(cls, url: str, *, group_commit: bool | None = None, **options: Any) -> Store:
        """Open (and check) the database; does not migrate: call `upgrade()` for that."""
        return cls(create_database_engine(url, **options), group_commit=group_commit)

    def upgrade(self) -> None:
        migrate.upgrade(self.engine)

    def close(self) -> None:
        if self._group is not None:
            self._group.close()
        self.engine.dispose()
        release_gate(self._gate)
        if self._unwatch is not None:
            self._unwatch()  # unregisters once, however often close() is called

    def _joined(self) -> UnitOfWork | None:
        outer = _ambient.get()
        return outer if outer is not None and outer.connection.engine is self.engine else None

    @contextmanager
    def one_transaction(self) -> Iterator[UnitOfWork]:
        """One transaction for everything done inside, in this context: units of work opened
        within join it (each in a savepoint, so a unit that fails is undone alone), reads see
        its writes, and events and after-commit callbacks wait for its COMMIT. What a request
        does and the record of its answer (Idempotency-Key) commit together or not at all."""
        if self._joined() is not None:
            with self.unit_of_work() as uow:
                yield uow
            return
        with self._gate, self.engine.connect() as connection:
            uow = UnitOfWork(connection, self.ids, self._writer)
            token = _ambient.set(uow)
            try:
                with connection.begin():
                    yield uow
                    uow._flush_events()
                    crash_point("mid-commit")
            finally:
                _ambient.reset(token)
        for callback in uow._after_commit:
            callback()

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        outer = self._joined()
        if outer is not None:
            pending = len(outer._pending)
            callbacks = len(outer._after_commit)
            try:
                with outer.connection.begin_nested():
                    yield outer
            except BaseException:
                del outer._pending[pending:], outer._after_commit[callbacks:]
                raise
            return
        with self._gate, self.engine.connect() as connection:
            uow = UnitOfWork(connection, self.ids, self._writer)
            with connection.begin():
                yield uow
                uow._flush_events()
        for callback in uow._after_commit:
            callback()

    def run_unit(self, fn: Callable[[UnitOfWork], T]) -> T:
        """Run `fn` in a unit of work of its own and return what it returns. Unlike
        `unit_of_work`, the unit may share its transaction with units of other threads (group
        commit, see groupcommit.py): still atomic, isolated as if run one after
        another, and committed before this returns."""
        if self._group is None or self._joined() is not None:
            with self.unit_of_work() as uow:
                return fn(uow)
        return self._group.run(fn)

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A read-only snapshot; on SQLite it does not take the write lock. Inside
        `one_transaction`, that transaction (which sees its own writes)."""
        outer = self._joined()
        if outer is not None:
            yield outer.connection
            return
        with (
            self.engine.connect().execution_options(**self._read_options) as connection,
            connection.begin(),
        ):
            yield connection

    def ping(self) -> bool:
        try:
            with self.reading() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True
