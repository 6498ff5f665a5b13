"""Shared fixtures: a real PostgreSQL server for the session, and a store on each backend."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flowdesk.core import event_types
from flowdesk.core.clock import FixedClock
from flowdesk.store import Store
from flowdesk.testing.postgres import INSTALL_HINT, PostgresServer, find_pg_bin

_db_names = itertools.count(1)

# Every event Flowdesk writes in the tests is checked against the registry (type and payload
# fields) as it is made; servers and CLIs the tests start as processes inherit the switch.
os.environ["FLOWDESK_STRICT_EVENTS"] = "1"
# Passwords hashed at scrypt N=2^14 in the tests (production: 2^17, see flowdesk.auth.hashing;
# tests/auth/test_accounts_security.py checks that default).
os.environ["FLOWDESK_SCRYPT_N"] = str(2**14)
event_types.set_strict(True)


@pytest.fixture
def loose_events(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """For tests that write made-up event types or partial histories (the log's machinery,
    imported and hand-made logs); subprocesses they start are loose too."""
    monkeypatch.setenv("FLOWDESK_STRICT_EVENTS", "0")
    previous = event_types.set_strict(False)
    try:
        yield
    finally:
        event_types.set_strict(previous)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    if find_pg_bin() is None:
        pytest.skip(INSTALL_HINT)
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> str:
    """A fresh, empty database on the session's PostgreSQL server."""
    return pg_server.create_database(f"test_{next(_db_names)}")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'var' / 'flowdesk.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """The URL of an empty database, once per backend."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A migrated store, once on SQLite and once on a real PostgreSQL."""
    s = Store.open(database_url)
    s.upgrade()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture(autouse=True)
def _logging_as_before() -> Iterator[None]:
    """A test that runs `flowdesk serve` or `worker` in process configures logging for the
    whole interpreter (root handler at INFO); put it back so later CLI tests see only their own
    output (alembic's INFO lines would otherwise land in a command's JSON)."""
    import logging

    import structlog

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    if root.handlers != handlers or root.level != level:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.reset_defaults()
