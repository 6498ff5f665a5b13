"""Sentiment of customer words: one scored row per contact text, survey comment or social post.

Revision ID: 0011_sentiment
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_sentiment"
down_revision = "0001"
branch_labels = ("sentiment",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sentiment_scores",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("channel", sa.String(20)),
        sa.Column("customer_id", sa.String(64)),
        sa.Column("case_id", sa.String(36)),
        sa.Column("reason", sa.String(100)),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("compound", sa.Float, nullable=False),
        sa.Column("label", sa.String(10), nullable=False),
        sa.Column("drivers", sa.JSON, nullable=False),
        sa.Column("excerpt", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sentiment_scores"),
    )
    op.create_index("ix_sentiment_scores_at", "sentiment_scores", ["at"])
    op.create_index("ix_sentiment_scores_case_id", "sentiment_scores", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_sentiment_scores_case_id", "sentiment_scores")
    op.drop_index("ix_sentiment_scores_at", "sentiment_scores")
    op.drop_table("sentiment_scores")
