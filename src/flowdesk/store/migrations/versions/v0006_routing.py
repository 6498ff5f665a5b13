"""Routing: agents, routing classes and the one queue (with SLA clocks).

Revision ID: 0006
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = ("routing",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "routing_agents",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("departments", sa.JSON(), nullable=False),
        sa.Column("capacity", sa.JSON(), nullable=False),
        sa.Column("presence", sa.String(length=20), nullable=False),
        sa.Column("presence_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idle_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_agents")),
    )
    op.create_index("ix_routing_agents_presence", "routing_agents", ["presence"], unique=False)
    op.create_table(
        "routing_classes",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=50), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=20), nullable=True),
        sa.Column("department", sa.String(length=200), nullable=True),
        sa.Column("candidate_groups", sa.JSON(), nullable=False),
        sa.Column("candidate_users", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_routing_classes")),
    )
    op.create_table(
        "routing_queue",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=True),
        sa.Column("process_key", sa.String(length=200), nullable=True),
        sa.Column("business_key", sa.String(length=200), nullable=True),
        sa.Column("element_id", sa.String(length=200), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("channel", sa.String(length=50), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=True),
        sa.Column("class_key", sa.String(length=64), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=20), nullable=True),
        sa.Column("candidate_groups", sa.JSON(), nullable=False),
        sa.Column("candidate_users", sa.JSON(), nullable=False),
        sa.Column("customer_value", sa.Float(), nullable=False),
        sa.Column("churn_risk", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("reason_priority", sa.Float(), nullable=False),
        sa.Column("boost", sa.Float(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("base", sa.Float(), nullable=False),
        sa.Column("rank", sa.Float(), nullable=False),
        sa.Column("review_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("agent_id", sa.String(length=100), nullable=True),
        sa.Column("offer_id", sa.String(length=36), nullable=True),
        sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("excluded", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.String(length=20), nullable=True),
        sa.Column("sla", sa.JSON(), nullable=True),
        sa.Column("sla_next_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_queue")),
    )
    op.create_index(
        "ix_routing_queue_class_rank",
        "routing_queue",
        ["status", "class_key", "rank"],
        unique=False,
    )
    op.create_index("ix_routing_queue_agent", "routing_queue", ["agent_id", "status"], unique=False)
    op.create_index(
        "ix_routing_queue_review", "routing_queue", ["status", "review_at"], unique=False
    )
    op.create_index(
        "ix_routing_queue_offer", "routing_queue", ["status", "offer_expires_at"], unique=False
    )
    op.create_index(
        "ix_routing_queue_sla", "routing_queue", ["status", "sla_next_at"], unique=False
    )
    op.create_index("ix_routing_queue_instance", "routing_queue", ["instance_id"], unique=False)
    op.create_index("ix_routing_queue_due", "routing_queue", ["status", "due_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_routing_queue_due", table_name="routing_queue")
    op.drop_index("ix_routing_queue_instance", table_name="routing_queue")
    op.drop_index("ix_routing_queue_sla", table_name="routing_queue")
    op.drop_index("ix_routing_queue_offer", table_name="routing_queue")
    op.drop_index("ix_routing_queue_review", table_name="routing_queue")
    op.drop_index("ix_routing_queue_agent", table_name="routing_queue")
    op.drop_index("ix_routing_queue_class_rank", table_name="routing_queue")
    op.drop_table("routing_queue")
    op.drop_table("routing_classes")
    op.drop_index("ix_routing_agents_presence", table_name="routing_agents")
    op.drop_table("routing_agents")
