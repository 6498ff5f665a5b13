"""Tables of the knowledge base (migration 0007).

`search_text` is the article flattened for full-text search (title, tags, reasons, body without
Markdown syntax). On SQLite the migration adds an FTS5 table `knowledge_fts` that the service
keeps in step in the same transaction; on PostgreSQL a GIN index over
`to_tsvector('english', title || ' ' || search_text)` serves the same queries.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Index, Integer, String, Table, Text

from flowdesk.store.tables import UtcDateTime, metadata

knowledge_articles = Table(
    "knowledge_articles",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("slug", String(100), nullable=False, unique=True),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("search_text", Text, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("steps", JSON, nullable=False),
    Column("segments", JSON, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("source", String(200)),  # the bundle that deployed it
    Column("file", String(300)),
    Column("helpful", Integer, nullable=False),
    Column("not_helpful", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

knowledge_feedback = Table(
    "knowledge_feedback",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("article_id", String(36), nullable=False),
    Column("helpful", Boolean, nullable=False),
    Column("actor", String(100)),
    Column("work_item_id", String(64)),
    Column("comment", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_knowledge_feedback_article_id", "article_id"),
)
