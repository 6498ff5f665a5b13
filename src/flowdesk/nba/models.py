"""Tables of the next-best-action domain (migration 0010_nba, branch "nba").

`nba_models` holds one adaptive model per action and channel (its counts as JSON, with the
evidence and AUC in columns for dashboards); `nba_model_history` a snapshot every
`SNAPSHOT_EVERY` outcomes (versions: AUC and calibration over time); `nba_decisions` every
action presented to a customer and its outcome (what contact policies count and what the
acceptance dashboard reads); `nba_customer_scores` the value and churn risk computed from the
event log and profile.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Index, Integer, String, Table

from flowdesk.store.tables import UtcDateTime, metadata

nba_models = Table(
    "nba_models",
    metadata,
    Column("action_id", String(100), primary_key=True),
    Column("channel", String(20), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("evidence", Integer, nullable=False),
    Column("positives", Integer, nullable=False),
    Column("auc", Float),
    Column("state", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

nba_model_history = Table(
    "nba_model_history",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("action_id", String(100), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("evidence", Integer, nullable=False),
    Column("positives", Integer, nullable=False),
    Column("auc", Float),
    Column("calibration", JSON, nullable=False),
    Column("predictors", JSON, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_nba_model_history_action_id", "action_id", "channel", "at"),
)

nba_decisions = Table(
    "nba_decisions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("action_id", String(100), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("arm", String(20), nullable=False),  # champion | challenger
    Column("rank", Integer, nullable=False),
    Column("propensity", Float, nullable=False),
    Column("priority", Float, nullable=False),
    Column("segment", String(50)),
    Column("case_id", String(36)),
    Column("predictors", JSON, nullable=False),
    Column("decided_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("outcome", String(20)),  # null while presented; accepted | declined | ignored
    Column("outcome_at", UtcDateTime),
    Column("actor", String(100)),
    Index("ix_nba_decisions_customer_id", "customer_id", "action_id"),
    Index("ix_nba_decisions_outcome", "outcome", "expires_at"),
)

nba_customer_scores = Table(
    "nba_customer_scores",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("value", Float, nullable=False),
    Column("churn_risk", Float, nullable=False),
    Column("tenure_years", Float, nullable=False),
    Column("complaints", Integer, nullable=False),
    Column("repeat_contacts", Integer, nullable=False),
    Column("sla_breaches", Integer, nullable=False),
    Column("products", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
