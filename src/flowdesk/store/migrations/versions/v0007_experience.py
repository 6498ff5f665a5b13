"""Experience bundles, the contact-reason catalog and the knowledge base (with full-text search).

Revision ID: 0007
Revises: 0004

SQLite gets an FTS5 virtual table `knowledge_fts` (porter stemming); PostgreSQL gets a GIN
index over the same tsvector expression that flowdesk.knowledge.search queries.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0004"
branch_labels = ("experience",)
depends_on = None

UtcDateTime = sa.DateTime(timezone=True)

PG_TSVECTOR = "to_tsvector('english', title || ' ' || search_text)"


def upgrade() -> None:
    op.create_table(
        "experience_bundles",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("version", sa.String(50)),
        sa.Column("title", sa.String(300)),
        sa.Column("process_key", sa.String(200), nullable=False),
        sa.Column("deployment_id", sa.String(36), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.JSON, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("actor", sa.String(100)),
        sa.PrimaryKeyConstraint("id", name="pk_experience_bundles"),
    )
    op.create_index("ix_experience_bundles_name", "experience_bundles", ["name"])
    op.create_table(
        "experience_definitions",
        sa.Column("definition_id", sa.String(250), nullable=False),
        sa.Column("bundle_id", sa.String(36), nullable=False),
        sa.Column("process_key", sa.String(200), nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("definition_id", name="pk_experience_definitions"),
    )
    op.create_table(
        "contact_reasons",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("channels", sa.JSON, nullable=False),
        sa.Column("process_key", sa.String(200), nullable=False),
        sa.Column("bundle_name", sa.String(100), nullable=False),
        sa.Column("bundle_id", sa.String(36), nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contact_reasons"),
    )
    op.create_table(
        "knowledge_articles",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("slug", sa.String(100), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("search_text", sa.Text, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("steps", sa.JSON, nullable=False),
        sa.Column("segments", sa.JSON, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("source", sa.String(200)),
        sa.Column("file", sa.String(300)),
        sa.Column("helpful", sa.Integer, nullable=False),
        sa.Column("not_helpful", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_knowledge_articles"),
        sa.UniqueConstraint("slug", name="uq_knowledge_articles_slug"),
    )
    op.create_table(
        "knowledge_feedback",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("article_id", sa.String(36), nullable=False),
        sa.Column("helpful", sa.Boolean, nullable=False),
        sa.Column("actor", sa.String(100)),
        sa.Column("work_item_id", sa.String(64)),
        sa.Column("comment", sa.Text),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_knowledge_feedback"),
    )
    op.create_index("ix_knowledge_feedback_article_id", "knowledge_feedback", ["article_id"])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE knowledge_fts USING fts5("
            "article_id UNINDEXED, title, tags, body, tokenize='porter unicode61')"
        )
    elif dialect == "postgresql":
        op.execute(
            "CREATE INDEX ix_knowledge_articles_fts ON knowledge_articles "
            f"USING gin ({PG_TSVECTOR})"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TABLE IF EXISTS knowledge_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_knowledge_articles_fts")
    op.drop_index("ix_knowledge_feedback_article_id", table_name="knowledge_feedback")
    op.drop_table("knowledge_feedback")
    op.drop_table("knowledge_articles")
    op.drop_table("contact_reasons")
    op.drop_table("experience_definitions")
    op.drop_index("ix_experience_bundles_name", table_name="experience_bundles")
    op.drop_table("experience_bundles")
