"""Tables of the service layer (migration 0005): idempotency keys, webhook subscriptions and
the webhook delivery log.

An idempotency key is scoped to the caller and the route, so two integrations that happen to
pick the same key never see each other's responses. A delivery row is unique per
(subscription, event): fanning the same event out twice (after a crash before the event-log
cursor was acknowledged) cannot create a second delivery.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Index, Integer, String, Table, Text, UniqueConstraint

from flowdesk.store.tables import SeqType, UtcDateTime, metadata

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256(principal, route, key)
    Column("principal", String(64), nullable=False),
    Column("route", String(200), nullable=False),
    Column("key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer),  # NULL while the first request is still running
    Column("response", JSON),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_idempotency_keys_created_at", "created_at"),
)

webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("event_types", JSON, nullable=False),
    Column("secret", String(200), nullable=False),
    Column("description", String(500)),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(100)),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("subscription_id", String(36), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("event_seq", SeqType, nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(20), nullable=False),  # pending, delivered, failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime),
    Column("last_status_code", Integer),
    Column("last_error", String(1000)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime),
    UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_sub_event"),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_subscription_id", "subscription_id"),
)
