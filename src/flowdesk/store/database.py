"""Opening the database: URL checks, SQLite pragmas, friendly errors for what users get wrong.

Every problem a user can fix (a typo in the URL, a server that is not running, a directory that
cannot be written) becomes a ConfigurationError with one line saying what to do.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, OperationalError
from sqlalchemy.exc import DBAPIError as _DBAPIError
from sqlalchemy.pool import StaticPool

from flowdesk.core.errors import ConfigurationError
from flowdesk.core.jsonutil import dumps
from flowdesk.store import checkpoint

EXAMPLES = "sqlite:///var/flowdesk.db or postgresql://user:password@localhost:5432/flowdesk"


def parse_database_url(raw: str) -> URL:
    """Validate and normalise a database URL (PostgreSQL always through psycopg 3)."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigurationError(
            f"FLOWDESK_DATABASE_URL {raw!r} is not a database URL; use {EXAMPLES}"
        ) from None
    backend = url.get_backend_name()
    if backend == "postgresql":
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if url.database in (None, "", ":memory:"):
            return url
        return url.set(drivername="sqlite")
    raise ConfigurationError(
        f"FLOWDESK_DATABASE_URL uses {backend!r}, which Flowdesk does not support; use {EXAMPLES}"
    )


def _prepare_sqlite_file(path: str) -> None:
    directory = Path(path).resolve().parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ConfigurationError(
            f"cannot create the database directory {directory}: a file is in the way; "
            "set FLOWDESK_DATABASE_URL to a writable location"
        ) from None
    except OSError as exc:
        raise ConfigurationError(
            f"cannot create the database directory {directory}: {exc.strerror}; "
            "set FLOWDESK_DATABASE_URL to a writable location"
        ) from None
    if not os.access(directory, os.W_OK) or (Path(path).exists() and not os.access(path, os.W_OK)):
        raise ConfigurationError(
            f"the database {path} is not writable; fix the permissions or set "
            "FLOWDESK_DATABASE_URL to a writable location"
        )


def create_database_engine(
    raw_url: str,
    *,
    sqlite_synchronous: str = "NORMAL",
    sqlite_busy_timeout_ms: int = 5000,
    pool_size: int = 10,
) -> Engine:
    url = parse_database_url(raw_url)
    if url.get_backend_name() == "sqlite":
        memory = url.database in (None, "", ":memory:")
        if not memory:
            assert url.database is not None
            _prepare_sqlite_file(url.database)
        engine = create_engine(
            url,
            connect_args={"timeout": sqlite_busy_timeout_ms / 1000, "check_same_thread": False},
            json_serializer=dumps,
            # In memory there is one database per connection: share one across threads.
            **({"poolclass": StaticPool} if memory else {}),
        )
        _install_sqlite_pragmas(engine, sqlite_synchronous, sqlite_busy_timeout_ms)
    else:
        engine = create_engine(url, pool_size=pool_size, json_serializer=dumps)
        _install_idle_ping(engine)
    check_connection(engine)
    return engine


def _install_sqlite_pragmas(engine: Engine, synchronous: str, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (BEGIN IMMEDIATE below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        # Checkpoints run in the background (checkpoint.py), not in the COMMIT that fills the log.
        cursor.execute(f"PRAGMA wal_autocheckpoint={checkpoint.SAFETY_NET_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writer takes the lock up front, so two commands never deadlock upgrading read locks;
        # readers (execution option readonly=True) start a deferred snapshot and never block.
        # Straight to the driver: this runs once per transaction, on the hot path.
        dbapi = connection.connection.dbapi_connection
        if connection.get_execution_options().get("readonly"):
            dbapi.execute("BEGIN")
        else:
            dbapi.execute("BEGIN IMMEDIATE")


#: Seconds a pooled PostgreSQL connection may sit idle before its checkout pings it.
IDLE_PING_S = 5.0


def _install_idle_ping(engine: Engine) -> None:
    """Ping a pooled PostgreSQL connection at checkout only if it sat idle IDLE_PING_S or more.

    SQLAlchemy's pool_pre_ping pings at every checkout: a round trip per command (issue 24).
    A server restarted while a connection idled is still found before use; a connection
    that breaks within seconds of its last use fails its statement, and SQLAlchemy then
    replaces the pool's connections, as it does for a ping that fails."""

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi: Any, record: Any) -> None:
        record.info["flowdesk_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("flowdesk_idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_S:
            return
        try:
            dbapi.execute("SELECT 1")
            dbapi.rollback()  # leave no transaction open: a reader may turn autocommit on
        except Exception as exc:
            raise DisconnectionError(f"stale pooled connection: {exc}") from exc


def check_connection(engine: Engine) -> None:
    """Connect once so a wrong host, password or file fails now, with a message, not later."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        raise ConfigurationError(_describe_connect_error(engine, exc)) from None
    except _DBAPIError as exc:  # pragma: no cover - other driver failures at connect
        raise ConfigurationError(_describe_connect_error(engine, exc)) from None


def _describe_connect_error(engine: Engine, exc: _DBAPIError) -> str:
    url = engine.url
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    if url.get_backend_name() == "postgresql":
        where = f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"
        return (
            f"cannot connect to PostgreSQL at {where}: {reason}; check that the server is "
            "running and FLOWDESK_DATABASE_URL (host, port, user, password, database) is right"
        )
    return (
        f"cannot open the SQLite database {url.database}: {reason}; check the path and "
        "permissions in FLOWDESK_DATABASE_URL"
    )
