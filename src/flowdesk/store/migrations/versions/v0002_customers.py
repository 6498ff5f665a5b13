"""Customers, their identities, preferences, consents and the merge audit.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("review_required", sa.Boolean, nullable=False),
        sa.Column("review_reason", sa.String(200)),
        sa.Column("merged_into", sa.String(64)),
        sa.Column("display_name", sa.String(200)),
        sa.Column("given_name", sa.String(100)),
        sa.Column("family_name", sa.String(100)),
        sa.Column("birth_date", sa.String(10)),
        sa.Column("street", sa.String(200)),
        sa.Column("locality", sa.String(100)),
        sa.Column("postcode", sa.String(20)),
        sa.Column("region", sa.String(100)),
        sa.Column("country", sa.String(2)),
        sa.Column("segment", sa.String(50)),
        sa.Column("value", sa.Numeric(14, 2)),
        sa.Column("name_key", sa.String(20)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
    )
    op.create_index("ix_customers_name_key", "customers", ["name_key"])
    op.create_index("ix_customers_birth_date", "customers", ["birth_date"])
    op.create_index("ix_customers_postcode", "customers", ["postcode"])
    op.create_index("ix_customers_merged_into", "customers", ["merged_into"])
    op.create_table(
        "customer_identities",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(320), nullable=False),
        sa.Column("raw", sa.String(400)),
        sa.Column("verified", sa.Boolean, nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customer_identities"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_customer_identities_customer_id"
        ),
        sa.UniqueConstraint("kind", "value", name="uq_customer_identities_kind"),
    )
    op.create_index("ix_customer_identities_customer_id", "customer_identities", ["customer_id"])
    op.create_table(
        "customer_preferences",
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(20)),
        sa.Column("language", sa.String(20)),
        sa.Column("quiet_start", sa.String(5)),
        sa.Column("quiet_end", sa.String(5)),
        sa.Column("timezone", sa.String(60)),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name="pk_customer_preferences"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_customer_preferences_customer_id"
        ),
    )
    op.create_table(
        "customer_consents",
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("granted", sa.Boolean, nullable=False),
        sa.Column("source", sa.String(100)),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "channel", name="pk_customer_consents"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_customer_consents_customer_id"
        ),
    )
    op.create_table(
        "customer_merges",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("survivor_id", sa.String(64), nullable=False),
        sa.Column("merged_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("merged_status", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(200)),
        sa.Column("actor", sa.String(100)),
        sa.Column("moved_identities", sa.JSON, nullable=False),
        sa.Column("filled_fields", sa.JSON, nullable=False),
        sa.Column("merged_at", _utc(), nullable=False),
        sa.Column("unmerged_at", _utc()),
        sa.Column("unmerged_by", sa.String(100)),
        sa.PrimaryKeyConstraint("id", name="pk_customer_merges"),
        sa.ForeignKeyConstraint(
            ["survivor_id"], ["customers.id"], name="fk_customer_merges_survivor_id"
        ),
        sa.ForeignKeyConstraint(
            ["merged_id"], ["customers.id"], name="fk_customer_merges_merged_id"
        ),
    )
    op.create_index("ix_customer_merges_survivor_id", "customer_merges", ["survivor_id"])
    op.create_index("ix_customer_merges_merged_id", "customer_merges", ["merged_id"])


def downgrade() -> None:
    op.drop_index("ix_customer_merges_merged_id", "customer_merges")
    op.drop_index("ix_customer_merges_survivor_id", "customer_merges")
    op.drop_table("customer_merges")
    op.drop_table("customer_consents")
    op.drop_table("customer_preferences")
    op.drop_index("ix_customer_identities_customer_id", "customer_identities")
    op.drop_table("customer_identities")
    op.drop_index("ix_customers_merged_into", "customers")
    op.drop_index("ix_customers_postcode", "customers")
    op.drop_index("ix_customers_birth_date", "customers")
    op.drop_index("ix_customers_name_key", "customers")
    op.drop_table("customers")
