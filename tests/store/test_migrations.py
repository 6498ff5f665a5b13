from __future__ import annotations

from sqlalchemy import inspect

import flowdesk.auth.models
import flowdesk.store.process_tables
from flowdesk.store import Store, migrate
from flowdesk.store.tables import metadata

assert flowdesk.auth.models.users.name in metadata.tables


def test_upgrade_creates_the_schema_and_is_idempotent(database_url: str) -> None:
    store = Store.open(database_url)
    try:
        assert migrate.current_revisions(store.engine) == ()
        store.upgrade()
        store.upgrade()  # a second run changes nothing and does not fail
        assert migrate.current_revisions(store.engine) == migrate.head_revisions()
        inspector = inspect(store.engine)
        for table in metadata.sorted_tables:
            assert table.name in inspector.get_table_names()
            db_columns = {c["name"] for c in inspector.get_columns(table.name)}
            assert db_columns == {c.name for c in table.columns}, table.name
        indexed = {i["name"] for i in inspector.get_indexes("events")}
        assert {"ix_events_case_id", "ix_events_process_instance_id"} <= indexed
    finally:
        store.close()


def test_downgrade_to_base_removes_everything(database_url: str) -> None:
    store = Store.open(database_url)
    try:
        store.upgrade()
        migrate.downgrade(store.engine, "base")
        assert "events" not in inspect(store.engine).get_table_names()
        assert migrate.current_revisions(store.engine) == ()
    finally:
        store.close()


def test_sqlite_runs_in_wal_with_foreign_keys(sqlite_url: str) -> None:
    store = Store.open(sqlite_url, sqlite_synchronous="FULL", sqlite_busy_timeout_ms=1234)
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    finally:
        store.close()
