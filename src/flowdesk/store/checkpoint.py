"""WAL checkpoints of SQLite databases, off the request path.

SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold (1,000 pages),
so one command in a hundred or so paid for copying the log back into the database and its
fsync: measured, 0.8 % of next-best-action decisions took 10 ms instead of 1.7 ms (wall) and
the p99 of every command carried it. Here one daemon thread per process checkpoints every
registered database a few times a second (PASSIVE: it never waits for readers or writers), and
the writers' own automatic checkpoint is kept only as a far-off safety net, should this thread
be starved.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

#: How often the thread checkpoints each database.
INTERVAL_S = 0.2
#: The writers' own automatic checkpoint, in pages (4 KiB each): far beyond what the thread lets
#: the log reach, so it runs only if the thread cannot.
SAFETY_NET_PAGES = 20_000

#: Re-entrant: a store collected without close() unregisters from its finalizer, which the
#: garbage collector may run in this very thread while it holds the lock.
_lock = threading.RLock()
_paths: dict[str, int] = {}  # database file -> how many open stores use it
_connections: dict[str, sqlite3.Connection] = {}
_thread: threading.Thread | None = None


def register(path: str) -> None:
    """Checkpoint `path` (a SQLite file in WAL mode) in the background until `unregister`."""
    global _thread
    key = str(Path(path).resolve())
    with _lock:
        _paths[key] = _paths.get(key, 0) + 1
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_run, name="flowdesk-wal-checkpoint", daemon=True)
            _thread.start()


def unregister(path: str) -> None:
    """One store of `path` closed: checkpoint what it wrote now, and stop with the last."""
    key = str(Path(path).resolve())
    with _lock:
        left = _paths.get(key, 0) - 1
        if left > 0:
            _paths[key] = left
            return
        _paths.pop(key, None)
        _checkpoint(key)
        connection = _connections.pop(key, None)
    if connection is not None:
        connection.close()


def _run() -> None:
    stop = threading.Event()  # never set: the thread is a daemon and sleeps between rounds
    while not stop.wait(INTERVAL_S):
        with _lock:
            for key in list(_paths):
                _checkpoint(key)


def _checkpoint(key: str) -> None:
    """One PASSIVE checkpoint; a database that went away (or is busy) is skipped quietly."""
    connection = _connections.get(key)
    try:
        if connection is None:
            # mode=rw: never create a file that was removed behind an unclosed store
            connection = sqlite3.connect(
                f"file:{key}?mode=rw",
                uri=True,
                timeout=0,
                isolation_level=None,
                check_same_thread=False,
            )
            _connections[key] = connection
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    except sqlite3.Error:
        stale = _connections.pop(key, None)
        if stale is not None:
            stale.close()
        if not Path(key).exists():
            _paths.pop(key, None)
