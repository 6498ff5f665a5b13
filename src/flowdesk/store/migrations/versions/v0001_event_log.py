"""The event log and its consumer cursors.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("case_id", sa.String(64)),
        sa.Column("contact_id", sa.String(64)),
        sa.Column("customer_id", sa.String(64)),
        sa.Column("process_instance_id", sa.String(64)),
        sa.Column("element_id", sa.String(200)),
        sa.Column("actor", sa.String(100)),
        sa.Column("department", sa.String(100)),
        sa.Column("channel", sa.String(50)),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("txid", sa.BigInteger, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("seq", name="pk_events"),
        sa.UniqueConstraint("id", name="uq_events_id"),
    )
    op.create_index("ix_events_txid_seq", "events", ["txid", "seq"])
    for column in ("case_id", "contact_id", "customer_id"):
        op.create_index(
            f"ix_events_{column}",
            "events",
            [column],
            sqlite_where=sa.text(f"{column} IS NOT NULL"),
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
        )
    op.create_index("ix_events_process_instance_id", "events", ["process_instance_id"])
    op.create_table(
        "event_consumers",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("position_txid", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_event_consumers"),
    )


def downgrade() -> None:
    op.drop_table("event_consumers")
    op.drop_index("ix_events_process_instance_id", "events")
    for column in ("customer_id", "contact_id", "case_id"):
        op.drop_index(f"ix_events_{column}", "events")
    op.drop_index("ix_events_txid_seq", "events")
    op.drop_table("events")
