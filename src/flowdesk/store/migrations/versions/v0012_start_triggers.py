"""Triggers of parallel multiple start events, held until all of a start event's have come.

Revision ID: 0012_start_triggers
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_start_triggers"
down_revision = "0004"
branch_labels = ("start_triggers",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "start_triggers",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("definition_id", sa.String(250), nullable=False),
        sa.Column("element_id", sa.String(200), nullable=False),
        sa.Column("trigger", sa.String(310), nullable=False),
        sa.Column("correlation_key", sa.String(300)),
        sa.Column("variables", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_start_triggers"),
    )
    op.create_index("ix_start_triggers_lookup", "start_triggers", ["definition_id", "element_id"])


def downgrade() -> None:
    op.drop_index("ix_start_triggers_lookup", "start_triggers")
    op.drop_table("start_triggers")
