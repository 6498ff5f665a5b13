"""Contacts as received (raw first), versioned reason models, and cases.

Revision ID: 0008
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0004"
branch_labels = ("contacts",)
depends_on = None

UtcDateTime = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("received_at", UtcDateTime, nullable=False),
        sa.Column("content_type", sa.String(100)),
        sa.Column("raw", sa.LargeBinary, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("sender", sa.String(320)),
        sa.Column("customer_id", sa.String(64)),
        sa.Column("subject", sa.String(500)),
        sa.Column("text", sa.Text),
        sa.Column("attachments", sa.JSON, nullable=False),
        sa.Column("geo", sa.JSON),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("message_id", sa.String(500)),
        sa.Column("in_reply_to", sa.String(500)),
        sa.Column("dedup_key", sa.String(64)),
        sa.Column("duplicate_of", sa.String(36)),
        sa.Column("reason", sa.String(100)),
        sa.Column("reason_source", sa.String(20)),
        sa.Column("confidence", sa.Float),
        sa.Column("case_id", sa.String(36)),
        sa.Column("processed_at", UtcDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_contacts"),
    )
    for column in ("status", "message_id", "dedup_key", "case_id", "customer_id"):
        op.create_index(f"ix_contacts_{column}", "contacts", [column])
    op.create_table(
        "reason_models",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("algorithm", sa.String(200), nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("examples", sa.Integer, nullable=False),
        sa.Column("accuracy", sa.Float, nullable=False),
        sa.Column("macro_f1", sa.Float, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("blob", sa.LargeBinary, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("actor", sa.String(100)),
        sa.PrimaryKeyConstraint("id", name="pk_reason_models"),
        sa.UniqueConstraint("version", name="uq_reason_models_version"),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("reference", sa.String(12), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(100), nullable=False),
        sa.Column("process_key", sa.String(200)),
        sa.Column("instance_id", sa.String(64)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("owner", sa.String(100)),
        sa.Column("department", sa.String(100)),
        sa.Column("channel", sa.String(20)),
        sa.Column("opened_at", UtcDateTime, nullable=False),
        sa.Column("closed_at", UtcDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.UniqueConstraint("reference", name="uq_cases_reference"),
    )
    op.create_index("ix_cases_customer_id", "cases", ["customer_id"])
    op.create_index("ix_cases_instance_id", "cases", ["instance_id"])


def downgrade() -> None:
    op.drop_index("ix_cases_instance_id", table_name="cases")
    op.drop_index("ix_cases_customer_id", table_name="cases")
    op.drop_table("cases")
    op.drop_table("reason_models")
    for column in ("status", "message_id", "dedup_key", "case_id", "customer_id"):
        op.drop_index(f"ix_contacts_{column}", table_name="contacts")
    op.drop_table("contacts")
