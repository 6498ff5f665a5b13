"""Next best action: adaptive models, their history, decisions with outcomes, customer scores.

Revision ID: 0010_nba
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_nba"
down_revision = "0004"
branch_labels = ("nba",)
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "nba_models",
        sa.Column("action_id", sa.String(100), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("evidence", sa.Integer, nullable=False),
        sa.Column("positives", sa.Integer, nullable=False),
        sa.Column("auc", sa.Float),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("action_id", "channel", name="pk_nba_models"),
    )
    op.create_table(
        "nba_model_history",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("action_id", sa.String(100), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("evidence", sa.Integer, nullable=False),
        sa.Column("positives", sa.Integer, nullable=False),
        sa.Column("auc", sa.Float),
        sa.Column("calibration", sa.JSON, nullable=False),
        sa.Column("predictors", sa.JSON, nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_nba_model_history"),
    )
    op.create_index(
        "ix_nba_model_history_action_id", "nba_model_history", ["action_id", "channel", "at"]
    )
    op.create_table(
        "nba_decisions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("action_id", sa.String(100), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("arm", sa.String(20), nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("propensity", sa.Float, nullable=False),
        sa.Column("priority", sa.Float, nullable=False),
        sa.Column("segment", sa.String(50)),
        sa.Column("case_id", sa.String(36)),
        sa.Column("predictors", sa.JSON, nullable=False),
        sa.Column("decided_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("outcome", sa.String(20)),
        sa.Column("outcome_at", _TIME),
        sa.Column("actor", sa.String(100)),
        sa.PrimaryKeyConstraint("id", name="pk_nba_decisions"),
    )
    op.create_index("ix_nba_decisions_customer_id", "nba_decisions", ["customer_id", "action_id"])
    op.create_index("ix_nba_decisions_outcome", "nba_decisions", ["outcome", "expires_at"])
    op.create_table(
        "nba_customer_scores",
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("churn_risk", sa.Float, nullable=False),
        sa.Column("tenure_years", sa.Float, nullable=False),
        sa.Column("complaints", sa.Integer, nullable=False),
        sa.Column("repeat_contacts", sa.Integer, nullable=False),
        sa.Column("sla_breaches", sa.Integer, nullable=False),
        sa.Column("products", sa.Integer, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name="pk_nba_customer_scores"),
    )


def downgrade() -> None:
    op.drop_table("nba_customer_scores")
    op.drop_index("ix_nba_decisions_outcome", "nba_decisions")
    op.drop_index("ix_nba_decisions_customer_id", "nba_decisions")
    op.drop_table("nba_decisions")
    op.drop_index("ix_nba_model_history_action_id", "nba_model_history")
    op.drop_table("nba_model_history")
    op.drop_table("nba_models")
