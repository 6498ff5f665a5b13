"""Process runtime: deployments, definitions, instances, work items, jobs, subscriptions.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "buffered_messages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("correlation_key", sa.String(length=300), nullable=True),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buffered_messages")),
    )
    op.create_index(
        "ix_buffered_messages_lookup",
        "buffered_messages",
        ["name", "correlation_key"],
        unique=False,
    )
    op.create_table(
        "deployment_resources",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("deployment_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment_resources")),
    )
    op.create_index(
        "ix_deployment_resources_deployment_id",
        "deployment_resources",
        ["deployment_id"],
        unique=False,
    )
    op.create_table(
        "deployments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployments")),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=True),
        sa.Column("definition_id", sa.String(length=250), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("element_id", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retries", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("locked_by", sa.String(length=100), nullable=True),
        sa.Column("lock_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index("ix_jobs_instance_id", "jobs", ["instance_id"], unique=False)
    op.create_index("ix_jobs_kind_due", "jobs", ["kind", "status", "due_at"], unique=False)
    op.create_index("ix_jobs_topic", "jobs", ["topic", "status"], unique=False)
    op.create_table(
        "process_definitions",
        sa.Column("id", sa.String(length=250), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("deployment_id", sa.String(length=36), nullable=False),
        sa.Column("resource_id", sa.String(length=36), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_definitions")),
        sa.UniqueConstraint("key", "version", name="uq_process_definitions_key_version"),
    )
    op.create_table(
        "process_instances",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("definition_id", sa.String(length=250), nullable=False),
        sa.Column("process_key", sa.String(length=200), nullable=False),
        sa.Column("business_key", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.Column("parent_token", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_instances")),
    )
    op.create_index(
        "ix_process_instances_business_key", "process_instances", ["business_key"], unique=False
    )
    op.create_index(
        "ix_process_instances_parent",
        "process_instances",
        ["parent_id", "parent_token"],
        unique=False,
    )
    op.create_index(
        "ix_process_instances_status", "process_instances", ["status", "process_key"], unique=False
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=True),
        sa.Column("definition_id", sa.String(length=250), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("correlation_key", sa.String(length=300), nullable=True),
        sa.Column("element_id", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    op.create_index("ix_subscriptions_instance_id", "subscriptions", ["instance_id"], unique=False)
    op.create_index(
        "ix_subscriptions_lookup",
        "subscriptions",
        ["kind", "name", "correlation_key"],
        unique=False,
    )
    op.create_table(
        "work_items",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("definition_id", sa.String(length=250), nullable=False),
        sa.Column("process_key", sa.String(length=200), nullable=False),
        sa.Column("element_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("lane", sa.String(length=200), nullable=True),
        sa.Column("assignee", sa.String(length=100), nullable=True),
        sa.Column("candidate_groups", sa.JSON(), nullable=False),
        sa.Column("candidate_users", sa.JSON(), nullable=False),
        sa.Column("form_key", sa.String(length=300), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_items")),
    )
    op.create_index("ix_work_items_instance_id", "work_items", ["instance_id"], unique=False)
    op.create_index(
        "ix_work_items_status_assignee", "work_items", ["status", "assignee"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_work_items_status_assignee", table_name="work_items")
    op.drop_index("ix_work_items_instance_id", table_name="work_items")
    op.drop_table("work_items")
    op.drop_index("ix_subscriptions_lookup", table_name="subscriptions")
    op.drop_index("ix_subscriptions_instance_id", table_name="subscriptions")
    op.drop_table("subscriptions")
    op.drop_index("ix_process_instances_status", table_name="process_instances")
    op.drop_index("ix_process_instances_parent", table_name="process_instances")
    op.drop_index("ix_process_instances_business_key", table_name="process_instances")
    op.drop_table("process_instances")
    op.drop_table("process_definitions")
    op.drop_index("ix_jobs_topic", table_name="jobs")
    op.drop_index("ix_jobs_kind_due", table_name="jobs")
    op.drop_index("ix_jobs_instance_id", table_name="jobs")
    op.drop_table("jobs")
    op.drop_table("deployments")
    op.drop_index("ix_deployment_resources_deployment_id", table_name="deployment_resources")
    op.drop_table("deployment_resources")
    op.drop_index("ix_buffered_messages_lookup", table_name="buffered_messages")
    op.drop_table("buffered_messages")
