"""Table definitions (SQLAlchemy Core), portable between SQLite and PostgreSQL.

Only portable column types: JSON (not JSONB), timezone-aware DateTime, String, BigInteger.
The migrations in `migrations/versions` create exactly these; a test checks they agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    text,
)
from sqlalchemy.engine import Dialect


class UtcDateTime(TypeDecorator[datetime]):
    """Always UTC-aware in Python; SQLite (which keeps no zone) stores UTC wall time."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use the injected Clock (UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid); PostgreSQL gets a bigint.
SeqType = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "events",
    metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("time", UtcDateTime, nullable=False),
    Column("type", String(100), nullable=False),
    Column("schema_version", Integer, nullable=False, default=1),
    Column("source", String(200), nullable=False),
    Column("case_id", String(64)),
    Column("contact_id", String(64)),
    Column("customer_id", String(64)),
    Column("process_instance_id", String(64)),
    Column("element_id", String(200)),
    Column("actor", String(100)),
    Column("department", String(100)),
    Column("channel", String(50)),
    Column("data", JSON, nullable=False),
    # The writing transaction (PostgreSQL; 0 on SQLite): consumers read in (txid, seq) order.
    Column("txid", BigInteger, nullable=False, server_default="0"),
    Index("ix_events_txid_seq", "txid", "seq"),
    # Partial: most events (engine steps) carry no case, contact or customer id, and an index
    # entry per event would cost every command a page write for nothing.
    *(
        Index(
            f"ix_events_{column}",
            column,
            sqlite_where=text(f"{column} IS NOT NULL"),
            postgresql_where=text(f"{column} IS NOT NULL"),
        )
        for column in ("case_id", "contact_id", "customer_id")
    ),
    Index("ix_events_process_instance_id", "process_instance_id"),
)

event_consumers = Table(
    "event_consumers",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False, default=0),
    Column("position_txid", BigInteger, nullable=False, default=0),
    Column("updated_at", UtcDateTime, nullable=False),
)

#: Which archived months (store/archive.py) hold events of a case, contact, customer or process
#: instance: a timeline reads only those Parquet files, and none for a subject never archived.
event_archive_subjects = Table(
    "event_archive_subjects",
    metadata,
    Column("subject", String(64), primary_key=True),
    Column("month", String(7), primary_key=True),
)
