"""Tables of the contacts domain (migration 0008): every contact as received, and the versioned
reason-classifier models.

A contact row is written with its raw payload before anything is parsed or decided, in its own
transaction, so nothing a customer sent is lost when processing fails: the row then keeps
status "failed" and the reason (the dead-letter list) until it is replayed.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from flowdesk.store.tables import UtcDateTime, metadata

contacts = Table(
    "contacts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("channel", String(20), nullable=False),
    Column("direction", String(3), nullable=False),  # in | out
    Column("received_at", UtcDateTime, nullable=False),
    Column("content_type", String(100)),
    Column("raw", LargeBinary, nullable=False),  # exactly what came in (or went out)
    # received | processed | duplicate | triage | failed | sent | status-answered
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("error", Text),
    Column("sender", String(320)),
    Column("customer_id", String(64)),
    Column("subject", String(500)),
    Column("text", Text),
    Column("attachments", JSON, nullable=False),
    Column("geo", JSON),
    Column("details", JSON, nullable=False),  # channel fields: ivr choice, form fields ...
    Column("message_id", String(500)),
    Column("in_reply_to", String(500)),
    Column("dedup_key", String(64)),
    Column("duplicate_of", String(36)),
    Column("reason", String(100)),
    Column("reason_source", String(20)),  # explicit | ivr | keyword | model | case | agent
    Column("confidence", Float),
    Column("case_id", String(36)),
    Column("processed_at", UtcDateTime),
    Index("ix_contacts_status", "status"),
    Index("ix_contacts_message_id", "message_id"),
    Index("ix_contacts_dedup_key", "dedup_key"),
    Index("ix_contacts_case_id", "case_id"),
    Index("ix_contacts_customer_id", "customer_id"),
)

reason_models = Table(
    "reason_models",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("version", Integer, nullable=False, unique=True),
    Column("algorithm", String(200), nullable=False),
    Column("labels", JSON, nullable=False),
    Column("examples", Integer, nullable=False),
    Column("accuracy", Float, nullable=False),
    Column("macro_f1", Float, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("blob", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("actor", String(100)),
)

#: Every column but the raw payload: what reads of contacts select.
LIGHT_COLUMNS = [c for c in contacts.c if c.name != "raw"]
