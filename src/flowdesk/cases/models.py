"""The cases table (migration 0008): one row per customer concern, with its public reference."""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table

from flowdesk.store.tables import UtcDateTime, metadata

cases = Table(
    "cases",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("reference", String(12), nullable=False, unique=True),
    Column("customer_id", String(64), nullable=False),
    Column("reason", String(100), nullable=False),
    Column("process_key", String(200)),
    Column("instance_id", String(64)),
    Column("status", String(20), nullable=False),  # open | closed
    Column("owner", String(100)),
    Column("department", String(100)),
    Column("channel", String(20)),  # where it was opened
    Column("opened_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime),
    Index("ix_cases_customer_id", "customer_id"),
    Index("ix_cases_instance_id", "instance_id"),
)
