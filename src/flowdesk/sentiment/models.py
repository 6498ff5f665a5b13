"""The sentiment table (migration 0011_sentiment, branch "sentiment"): one row per customer
text (a contact's words, a survey comment, a social post), keyed by the contact id (a survey
answered without a contact row: by its event id), with the case and reason it belongs to so
that per-case and per-reason figures are one indexed query."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Index, String, Table

from flowdesk.store.tables import UtcDateTime, metadata

sentiment_scores = Table(
    "sentiment_scores",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("source", String(10), nullable=False),  # contact | survey | social
    Column("channel", String(20)),
    Column("customer_id", String(64)),
    Column("case_id", String(36)),
    Column("reason", String(100)),
    Column("at", UtcDateTime, nullable=False),
    Column("compound", Float, nullable=False),
    Column("label", String(10), nullable=False),
    Column("drivers", JSON, nullable=False),
    Column("excerpt", String(200), nullable=False),
    Index("ix_sentiment_scores_at", "at"),
    Index("ix_sentiment_scores_case_id", "case_id"),
)
