"""Group commit: units of work of concurrent threads share one transaction and one COMMIT.

SQLite runs one write transaction at a time, so under concurrent requests each command waits
for the writer gate, then pays for BEGIN, COMMIT and the WAL pages its commit writes. Here the
first thread to arrive leads: it takes the gate once and runs, in arrival order, its own unit
and those of the threads that queued meanwhile (up to `max_batch`), each inside its own
SAVEPOINT, then commits them together. Every unit is still atomic (a unit that raises is rolled
back to its savepoint and its caller gets the exception; the others go on) and durable before
its caller returns (callers wake after the COMMIT), and the batch is serial: each unit sees the
ones before it, so the result is that of running them one after another. If BEGIN or COMMIT
fails, no unit of the batch took effect and every caller gets that error. A unit started from
inside a unit of the batch (same thread) runs in a savepoint of the same transaction.

On PostgreSQL the same batching pays too (issue 24): each command of its own costs a pool
checkout with its ping, BEGIN and COMMIT round trips and a WAL flush; in a batch they are paid
once (measured in docs/performance.md, "Service API"). Writers of other processes still run
concurrently under row locks, so there a member can meet a deadlock or serialization failure
that it would not have met alone (the batch holds the locks of the units before it): such a
member is undone to its savepoint and run once more in the next batch, after this one
committed. A member that swallowed a database error leaves PostgreSQL's transaction aborted:
it is undone as if it had raised (`InFailedSqlTransaction`), so the others still commit.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import Connection

if TYPE_CHECKING:
    from flowdesk.store.store import Store, UnitOfWork

T = TypeVar("T")


#: SQLSTATEs of PostgreSQL's concurrency failures: deadlock, serialization, lock not available.
_TRANSIENT = frozenset({"40P01", "40001", "55P03"})


def _transient(exc: BaseException) -> bool:
    return getattr(getattr(exc, "orig", exc), "sqlstate", None) in _TRANSIENT


class _Unit:
    __slots__ = ("fn", "done", "value", "error", "uow", "retry", "attempts")

    def __init__(self, fn: Callable[[UnitOfWork], Any]):
        self.fn = fn
        self.done = False
        self.value: Any = None
        self.error: BaseException | None = None
        self.uow: UnitOfWork | None = None
        self.retry = False  # undone by a concurrency failure: run again in the next batch
        self.attempts = 0


_INERROR = 3  # psycopg.pq.TransactionStatus.INERROR, compared without importing the driver


def _aborted() -> Exception:
    from psycopg.errors import InFailedSqlTransaction

    return InFailedSqlTransaction(
        "a unit of work caught a database error and went on; PostgreSQL aborted its "
        "transaction, so the unit is undone (run the failing statement in a savepoint)"
    )


class GroupCommit:
    def __init__(self, store: Store, *, max_batch: int = 64):
        self._store = store
        self.max_batch = max_batch
        self._cv = threading.Condition()
        self._queue: list[_Unit] = []
        self._busy = False
        self._local = threading.local()
        self._connection: Connection | None = None
        self._postgres = store.dialect == "postgresql"
        #: Transactions committed and units run in them (tests and benchmarks read these).
        self.commits = 0
        self.units = 0

    def run(self, fn: Callable[[UnitOfWork], T]) -> T:
        unit = _Unit(fn)
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is not None:  # from inside a unit of this thread's batch
            outer: UnitOfWork = self._local.unit
            self._member(connection, unit)
            if unit.error is not None:
                raise unit.error
            if unit.uow is not None:  # its callbacks wait for the real COMMIT, with the outer's
                outer._after_commit.extend(unit.uow._after_commit)
            return cast(T, unit.value)
        with self._cv:
            self._queue.append(unit)
        while True:
            with self._cv:
                while self._busy and not unit.done:
                    self._cv.wait()
                if unit.done:
                    break
                self._busy = True
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
            try:
                self._execute(batch)
            finally:
                with self._cv:
                    self._busy = False
                    self._cv.notify_all()
        return cast(T, self._outcome(unit))

    def _execute(self, batch: list[_Unit]) -> None:
        store = self._store
        committed = False
        try:
            with store._gate:
                # One connection kept from batch to batch (batches never overlap): a pool
                # checkout per command cost about a tenth of a persisted command.
                if self._connection is None:
                    self._connection = store.engine.connect()
                connection = self._connection
                self._local.connection = connection
                try:
                    with connection.begin():
                        if len(batch) == 1:
                            self._alone(connection, batch[0])
                        else:
                            for unit in batch:
                                self._member(connection, unit)
                    committed = True
                    self.commits += 1
                    self.units += sum(1 for unit in batch if unit.error is None)
                finally:
                    self._local.connection = None
        except BaseException as exc:
            if not any(unit.error is exc for unit in batch):
                # BEGIN or COMMIT failed: the whole batch is undone, the connection replaced.
                self._drop_connection()
                for unit in batch:
                    if unit.error is None:
                        unit.error, unit.value, unit.uow = exc, None, None
            if not isinstance(exc, Exception):
                raise
        finally:
            # Members undone by a concurrency failure go first into the next batch, once the
            # locks of this one are gone; their callers wait on.
            again = [u for u in batch if committed and u.retry and u.attempts < 2]
            for unit in batch:
                if unit in again:
                    unit.error, unit.retry = None, False
                else:
                    unit.done = True
            if again:
                with self._cv:
                    self._queue[:0] = again

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # a broken connection may fail to close
                connection.close()

    def close(self) -> None:
        with self._cv:
            while self._busy:
                self._cv.wait()
            self._drop_connection()

    def _alone(self, connection: Connection, unit: _Unit) -> None:
        """A batch of one needs no savepoint: if the unit raises, the transaction is undone."""
        from flowdesk.store.store import UnitOfWork

        uow = UnitOfWork(connection, self._store.ids, self._store._writer)
        self._local.unit = uow
        try:
            unit.value = unit.fn(uow)
            uow._flush_events()
        except BaseException as exc:
            unit.error = exc
            raise
        unit.uow = uow

    def _member(self, connection: Connection, unit: _Unit) -> None:
        from flowdesk.store.store import UnitOfWork

        store = self._store
        dbapi = connection.connection.driver_connection
        assert dbapi is not None
        uow = UnitOfWork(connection, store.ids, store._writer)
        enclosing = getattr(self._local, "unit", None)
        self._local.unit = uow
        dbapi.execute("SAVEPOINT flowdesk_unit")
        unit.attempts += 1
        try:
            unit.value = unit.fn(uow)
            uow._flush_events()
            if self._postgres and dbapi.info.transaction_status == _INERROR:
                raise _aborted()
        except Exception as exc:
            self._local.unit = enclosing
            # Undo this unit only; if SQLite already rolled the whole transaction back (an I/O
            # error), the savepoint is gone and the batch fails as a whole.
            dbapi.execute("ROLLBACK TO flowdesk_unit")
            dbapi.execute("RELEASE flowdesk_unit")
            unit.error = exc
            unit.retry = self._postgres and _transient(exc)
            return
        self._local.unit = enclosing
        dbapi.execute("RELEASE flowdesk_unit")
        unit.uow = uow

    @staticmethod
    def _outcome(unit: _Unit) -> Any:
        if unit.error is not None:
            raise unit.error
        if unit.uow is not None:
            for callback in unit.uow._after_commit:
                callback()
        return unit.value
