"""Situations: event-pattern partitions, situations, their actions, held contacts and the
customers' service points (area and product) that proactive actions select customers by.

Revision ID: 0010_situations
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

UtcDateTime = sa.DateTime(timezone=True)

revision = "0010_situations"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cep_partitions",
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("state", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("rule", "key", name="pk_cep_partitions"),
    )
    op.create_table(
        "situations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("bundle", sa.String(200)),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("raised_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("cleared_at", UtcDateTime),
        sa.Column("cleared_by", sa.String(100)),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_index("ix_situations_status", "situations", ["status"])
    op.create_table(
        "situation_actions",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("situation_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("customer_id", sa.String(64)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("result", sa.JSON),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("done_at", UtcDateTime),
    )
    op.create_index("ix_situation_actions_situation", "situation_actions", ["situation_id"])
    op.create_index("ix_situation_actions_status", "situation_actions", ["status"])
    op.create_table(
        "situation_contacts",
        sa.Column("situation_id", sa.String(36), nullable=False),
        sa.Column("contact_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64)),
        sa.Column("attached_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("situation_id", "contact_id", name="pk_situation_contacts"),
    )
    op.create_table(
        "service_points",
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("area", sa.String(100), nullable=False),
        sa.Column("product", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "area", "product", name="pk_service_points"),
    )
    op.create_index("ix_service_points_area", "service_points", ["area"])


def downgrade() -> None:
    for table in (
        "service_points",
        "situation_contacts",
        "situation_actions",
        "situations",
        "cep_partitions",
    ):
        op.drop_table(table)
