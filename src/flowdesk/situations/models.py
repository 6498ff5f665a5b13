"""Tables of the situations (migration 0010_situations): the engine's partitions, situations,
their actions (one row per idempotency key), held contacts and customers' service points."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, Integer, String, Table

from flowdesk.store.tables import UtcDateTime, metadata

cep_partitions = Table(
    "cep_partitions",
    metadata,
    Column("rule", String(100), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("state", JSON, nullable=False),  # the engine's JSON state of this (rule, key)
)

situations = Table(
    "situations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("rule", String(100), nullable=False),
    Column("bundle", String(200)),
    Column("key", String(200), nullable=False),
    Column("title", String(500), nullable=False),
    Column("status", String(20), nullable=False),  # active | cleared
    Column("count", Integer, nullable=False),
    Column("raised_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("cleared_at", UtcDateTime),
    Column("cleared_by", String(100)),  # the clearing event's id, or "timeout"
    Column("data", JSON, nullable=False),
    Index("ix_situations_status", "status"),
)

situation_actions = Table(
    "situation_actions",
    metadata,
    Column("key", String(300), primary_key=True),  # situation id : action : customer
    Column("situation_id", String(36), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("customer_id", String(64)),
    Column("status", String(20), nullable=False),  # pending | done | failed
    Column("attempts", Integer, nullable=False),
    Column("spec", JSON, nullable=False),  # what to do, rendered when it was planned
    Column("result", JSON),
    Column("created_at", UtcDateTime, nullable=False),
    Column("done_at", UtcDateTime),
    Index("ix_situation_actions_situation", "situation_id"),
    Index("ix_situation_actions_status", "status"),
)

situation_contacts = Table(
    "situation_contacts",
    metadata,
    Column("situation_id", String(36), primary_key=True),
    Column("contact_id", String(64), primary_key=True),
    Column("customer_id", String(64)),
    Column("attached_at", UtcDateTime, nullable=False),
)

service_points = Table(
    "service_points",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("area", String(100), primary_key=True),  # network area, grid zone, region
    Column("product", String(100), primary_key=True),
    Index("ix_service_points_area", "area"),
)
