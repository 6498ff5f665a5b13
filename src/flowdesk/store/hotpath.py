"""The runtime's hottest statements, executed straight on the DB-API cursor.

Every engine command loads and saves (a start: inserts) one instance row, usually opens or
closes a work item and sometimes a job. Through SQLAlchemy Core each statement costs about
50 µs of Python on top of the 10 µs the driver needs (measured: benchmarks/engine_refund.py
--mode persisted), which dominated a command. These statements run on the same DB-API
connection, inside the same transaction as everything else of the unit of work, and convert
values exactly as the column types of `process_tables` do (JSON as text, UTC wall time on
SQLite), so rows written here and read through SQLAlchemy are identical.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from flowdesk.core.jsonutil import dumps

_WORK_COLUMNS = (
    "id, instance_id, definition_id, process_key, element_id, name, lane, assignee, "
    "candidate_groups, candidate_users, form_key, due_at, priority, status, created_at"
)
_INSTANCE_COLUMNS = (
    "id, definition_id, process_key, business_key, status, version, state, parent_id, "
    "parent_token, started_at, ended_at"
)
_JOB_COLUMNS = (
    "id, instance_id, definition_id, kind, element_id, topic, due_at, retries, attempts, "
    "status, created_at"
)


class DriverIO:
    def __init__(self, dialect_name: str, paramstyle: str):
        self.sqlite = dialect_name == "sqlite"
        p = "?" if paramstyle == "qmark" else "%s"
        self.p = p
        self._texts: dict[str, str] = {}
        self.load_sql = (
            f"SELECT state, version, definition_id FROM process_instances WHERE id = {p}"
        )
        self.insert_instance_sql = (
            f"INSERT INTO process_instances ({_INSTANCE_COLUMNS}) VALUES ({', '.join([p] * 11)})"
        )
        self.save_sql = (
            f"UPDATE process_instances SET state = {p}, version = {p}, status = {p}, "
            f"ended_at = {p} WHERE id = {p} AND version = {p}"
        )
        self.work_lookup_sql = (
            f"SELECT instance_id, status, assignee, element_id, lane FROM work_items WHERE id = {p}"
        )
        # A command on a work item reads its instance too: one round trip for both.
        self.work_command_sql = (
            "SELECT w.instance_id, w.status, w.assignee, w.element_id, w.lane, "
            "i.state, i.version, i.definition_id FROM work_items w "
            f"LEFT JOIN process_instances i ON i.id = w.instance_id WHERE w.id = {p}"
        )
        self.insert_work_sql = (
            f"INSERT INTO work_items ({_WORK_COLUMNS}) VALUES ({', '.join([p] * 15)})"
        )
        self.close_work_sql = (
            f"UPDATE work_items SET status = {p}, closed_at = {p}, closed_by = {p} "
            f"WHERE id = {p} AND status = 'open'"
        )
        self.insert_job_sql = f"INSERT INTO jobs ({_JOB_COLUMNS}) VALUES ({', '.join([p] * 11)})"
        self.delete_job_sql = f"DELETE FROM jobs WHERE id = {p}"
        self.latest_sql = (
            f"SELECT id FROM process_definitions WHERE key = {p} ORDER BY version DESC LIMIT 1"
        )

    def sql(self, text: str) -> str:
        """`text` written with `?` placeholders, in this driver's paramstyle (cached): for the
        domains' few per-contact statements (intake), as hot as the runtime's."""
        found = self._texts.get(text)
        if found is None:
            found = self._texts[text] = text if self.p == "?" else text.replace("?", self.p)
        return found

    # -- conversions, as the column types do them ------------------------------------------
    def time(self, value: datetime | None) -> Any:
        if value is None:
            return None
        value = value.astimezone(UTC)
        if self.sqlite:
            return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        return value

    @staticmethod
    def json_in(value: Any) -> str:
        return dumps(value)

    @staticmethod
    def json_out(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str | bytes) else value

    # -- execution ----------------------------------------------------------------------------
    @staticmethod
    def cursor(connection: Connection) -> Any:
        return connection.connection.driver_connection.cursor()  # type: ignore[union-attr]

    def one(self, connection: Connection, sql: str, params: Sequence[Any]) -> Any:
        cur = self.cursor(connection)
        try:
            cur.execute(sql, tuple(params))
            return cur.fetchone()
        finally:
            cur.close()

    def run(self, connection: Connection, sql: str, params: Sequence[Any]) -> int:
        cur = self.cursor(connection)
        try:
            cur.execute(sql, tuple(params))
            return int(cur.rowcount)
        finally:
            cur.close()

    def many(self, connection: Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        cur = self.cursor(connection)
        try:
            cur.executemany(sql, rows)
        finally:
            cur.close()


_CACHE: dict[tuple[str, str], DriverIO] = {}


def driver_io(connection: Connection) -> DriverIO:
    dialect = connection.dialect
    key = (dialect.name, str(dialect.paramstyle))
    io = _CACHE.get(key)
    if io is None:
        io = _CACHE[key] = DriverIO(dialect.name, str(dialect.paramstyle))
    return io
