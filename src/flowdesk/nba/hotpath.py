"""A decision's statements, executed straight on the DB-API cursor.

A decision reads five small results (the customer with its scores, open cases, recent event
types, the presentations its contact policies count, whether any model learned elsewhere) and
writes its presentation rows. Through SQLAlchemy Core each statement cost about 45 µs of Python
before the driver's few µs, and each presentation row read or written another few (measured
with benchmarks/nba.py): a third of a decision. As `flowdesk.store.hotpath` does for the
runtime, these run on the same DB-API connection, inside the same transaction as the rest of
the unit of work, and convert values exactly as the column types of the tables do (JSON as
text, UTC wall time on SQLite), so what is written here and read through SQLAlchemy is the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection

from flowdesk.store.hotpath import DriverIO

_INSERT_COLUMNS = (
    "id",
    "customer_id",
    "action_id",
    "channel",
    "arm",
    "rank",
    "propensity",
    "priority",
    "segment",
    "case_id",
    "predictors",
    "decided_at",
    "expires_at",
    "actor",
)


class CustomerRow(NamedTuple):
    id: str
    status: str
    display_name: str | None
    given_name: str | None
    family_name: str | None
    segment: str | None
    country: str | None
    value: Any
    created_at: datetime
    # the scores: all None when the customer has none yet
    score_value: Any
    churn_risk: Any
    tenure_years: Any
    complaints: Any
    repeat_contacts: Any
    sla_breaches: Any
    products: Any


class Presented(NamedTuple):
    """One earlier presentation to the customer, as the contact policies read it."""

    id: str
    action_id: str
    channel: str
    outcome: str | None
    decided_at: datetime
    outcome_at: datetime | None
    rank: int
    propensity: float
    priority: float


def _utc(value: Any) -> Any:
    """A stored time as the UtcDateTime column type gives it: UTC-aware."""
    if value is None:
        return None
    if isinstance(value, str):  # SQLite: UTC wall time as text
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class DecisionIO:
    def __init__(self, dialect_name: str, paramstyle: str) -> None:
        self.io = DriverIO(dialect_name, paramstyle)
        p = "?" if paramstyle == "qmark" else "%s"
        self.customer_sql = (
            "SELECT c.id, c.status, c.display_name, c.given_name, c.family_name, c.segment, "
            "c.country, c.value, c.created_at, s.value, s.churn_risk, s.tenure_years, "
            "s.complaints, s.repeat_contacts, s.sla_breaches, s.products FROM customers c "
            f"LEFT JOIN nba_customer_scores s ON s.customer_id = c.id WHERE c.id = {p}"
        )
        self.open_cases_sql = (
            "SELECT reason, process_key, reference FROM cases "
            f"WHERE customer_id = {p} AND status = 'open'"
        )
        self.recent_sql = (
            f"SELECT DISTINCT type FROM events WHERE customer_id = {p} AND time >= {p}"
        )
        # what a contact policy can count: still open, or decided (or declined) within the
        # longest window or cool-down of the catalog
        self.presented_sql = (
            "SELECT id, action_id, channel, outcome, decided_at, outcome_at, rank, propensity, "
            f"priority FROM nba_decisions WHERE customer_id = {p} AND (outcome IS NULL OR "
            f"decided_at >= {p} OR outcome_at >= {p}) ORDER BY decided_at"
        )
        # one row that moves whenever any model of the channel learned (evidence only grows)
        self.evidence_sum_sql = (
            f"SELECT count(*), coalesce(sum(evidence), 0) FROM nba_models WHERE channel = {p}"
        )
        self.evidence_sql = f"SELECT action_id, evidence FROM nba_models WHERE channel = {p}"
        self.insert_sql = (
            f"INSERT INTO nba_decisions ({', '.join(_INSERT_COLUMNS)}) "
            f"VALUES ({', '.join([p] * len(_INSERT_COLUMNS))})"
        )

    def _all(self, connection: Connection, sql: str, params: Sequence[Any]) -> list[Any]:
        cur = self.io.cursor(connection)
        try:
            cur.execute(sql, tuple(params))
            return list(cur.fetchall())
        finally:
            cur.close()

    def customer(self, connection: Connection, customer_id: str) -> CustomerRow | None:
        row = self.io.one(connection, self.customer_sql, (customer_id,))
        if row is None:
            return None
        return CustomerRow._make((*row[:8], _utc(row[8]), *row[9:]))

    def open_cases(self, connection: Connection, customer_id: str) -> list[Any]:
        return self._all(connection, self.open_cases_sql, (customer_id,))

    def recent_types(self, connection: Connection, customer_id: str, since: datetime) -> list[str]:
        rows = self._all(connection, self.recent_sql, (customer_id, self.io.time(since)))
        return [r[0] for r in rows]

    def presented(
        self, connection: Connection, customer_id: str, since: datetime
    ) -> list[Presented]:
        at = self.io.time(since)
        return [
            Presented(r[0], r[1], r[2], r[3], _utc(r[4]), _utc(r[5]), r[6], r[7], r[8])
            for r in self._all(connection, self.presented_sql, (customer_id, at, at))
        ]

    def evidence_sum(self, connection: Connection, channel: str) -> tuple[int, int]:
        n, total = self.io.one(connection, self.evidence_sum_sql, (channel,))
        return int(n), int(total)

    def evidence(self, connection: Connection, channel: str) -> dict[str, int]:
        return {r[0]: int(r[1]) for r in self._all(connection, self.evidence_sql, (channel,))}

    def insert_presented(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        time, json_in = self.io.time, self.io.json_in
        self.io.many(
            connection,
            self.insert_sql,
            [
                (
                    r["id"],
                    r["customer_id"],
                    r["action_id"],
                    r["channel"],
                    r["arm"],
                    r["rank"],
                    r["propensity"],
                    r["priority"],
                    r["segment"],
                    r["case_id"],
                    json_in(r["predictors"]),
                    time(r["decided_at"]),
                    time(r["expires_at"]),
                    r["actor"],
                )
                for r in rows
            ],
        )


_CACHE: dict[tuple[str, str], DecisionIO] = {}


def decision_io(connection: Connection) -> DecisionIO:
    dialect = connection.dialect
    key = (dialect.name, str(dialect.paramstyle))
    found = _CACHE.get(key)
    if found is None:
        found = _CACHE[key] = DecisionIO(dialect.name, str(dialect.paramstyle))
    return found
