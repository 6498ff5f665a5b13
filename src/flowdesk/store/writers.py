"""One writer at a time on SQLite, queued instead of retried in SQLite's busy handler.

SQLite admits one write transaction at a time. A writer that finds the lock taken sleeps in the
busy handler with growing back-off (1, 2, 5 ... 100 ms) and retries, so under concurrent
requests the lock sits free while the waiters sleep, and a request can wait hundreds of
milliseconds for a transaction that took a fraction of one. Units of work instead queue at a
gate that lets the next writer in the moment the last one commits: a thread lock shared by
every Store of the process on that file (waiters hold no pooled connection), then an advisory
`flock` on a file beside the database for writers in other processes (`flowdesk serve
--workers N`, `flowdesk worker`); the kernel drops the flock of a process that dies.

Both waits block without a deadline, on purpose: the gate is held only around a transaction
that takes SQLite's write lock (BEGIN IMMEDIATE), so it makes a writer wait only where SQLite
would have made it wait too; where SQLite would give up after the busy timeout, the writer
waits for its turn instead. A unit of work opened inside another on the same thread passes the
(re-entrant) gate and fails in SQLite as it always did. PostgreSQL needs no gate: its writers
run concurrently under row locks.
"""

from __future__ import annotations

import os
import threading
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType
from typing import Any

from sqlalchemy import Engine

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock, writers of other processes meet
    fcntl = None  # type: ignore[assignment]  # in SQLite's busy handler as before


class SqliteWriterGate:
    def __init__(self, lock_path: str | None):
        self.lock_path = lock_path
        self.users = 0  # Stores of this process on the file
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int:
        assert self.lock_path is not None
        if self._fd is None or self._pid != os.getpid():
            # A forked child must not share the parent's open file: flock is per open file.
            self._fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        self._depth += 1
        if self._depth == 1 and self.lock_path is not None and fcntl is not None:
            try:
                fcntl.flock(self._file(), fcntl.LOCK_EX)
            except BaseException:
                self._depth -= 1
                self._thread_lock.release()
                raise

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and self._fd is not None and self._pid == os.getpid():
                fcntl.flock(self._fd, fcntl.LOCK_UN)  # _fd is only set where fcntl exists
        finally:
            self._thread_lock.release()

    def close_file(self) -> None:
        with self._thread_lock:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None


_GATES: dict[str, SqliteWriterGate] = {}
_GATES_LOCK = threading.Lock()


def lock_file_of(database: str) -> str:
    return f"{os.path.abspath(database)}-writers.lock"


def writer_gate(engine: Engine) -> AbstractContextManager[Any]:
    """The gate of the engine's database, shared by every Store of this process on that file."""
    if engine.dialect.name != "sqlite":
        return nullcontext()
    database = engine.url.database
    if database in (None, "", ":memory:"):
        return SqliteWriterGate(None)  # one database per engine, in this process only
    path = lock_file_of(str(database))
    with _GATES_LOCK:
        gate = _GATES.get(path)
        if gate is None:
            gate = _GATES[path] = SqliteWriterGate(path)
        gate.users += 1
        return gate


def release_gate(gate: AbstractContextManager[Any]) -> None:
    """A Store closed: the last Store of the process on that file closes the lock file."""
    if not isinstance(gate, SqliteWriterGate) or gate.lock_path is None:
        return
    with _GATES_LOCK:
        gate.users -= 1
        if gate.users <= 0 and _GATES.get(gate.lock_path) is gate:
            del _GATES[gate.lock_path]
            gate.close_file()
