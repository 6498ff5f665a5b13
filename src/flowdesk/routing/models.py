"""Tables of the routing domain (migration 0006, branch "routing").

`routing_queue` holds one row per piece of queued work (a user task of any flow, or a contact
waiting for a first answer) with its routing class, its aging-aware rank and its SLA clocks;
the index (status, class_key, rank) makes "the best item of a class" one index probe, so a
decision costs one probe per class the agent serves, not a scan of the queue.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Index, String, Table

from flowdesk.store.tables import UtcDateTime, metadata

routing_agents = Table(
    "routing_agents",
    metadata,
    Column("id", String(100), primary_key=True),  # the username
    Column("display_name", String(200)),
    Column("skills", JSON, nullable=False),
    Column("languages", JSON, nullable=False),
    Column("departments", JSON, nullable=False),
    Column("capacity", JSON, nullable=False),
    Column("presence", String(20), nullable=False),
    Column("presence_since", UtcDateTime, nullable=False),
    Column("idle_since", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_routing_agents_presence", "presence"),
)

routing_classes = Table(
    "routing_classes",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("channel", String(50), nullable=False),
    Column("skills", JSON, nullable=False),
    Column("language", String(20)),
    Column("department", String(200)),
    Column("candidate_groups", JSON, nullable=False),
    Column("candidate_users", JSON, nullable=False),
)

routing_queue = Table(
    "routing_queue",
    metadata,
    Column("id", String(64), primary_key=True),  # work item id, or contact id
    Column("source", String(20), nullable=False),  # work_item, contact
    Column("instance_id", String(36)),
    Column("process_key", String(200)),
    Column("business_key", String(200)),
    Column("element_id", String(200)),
    Column("name", String(300)),
    Column("channel", String(50), nullable=False),
    Column("department", String(200)),
    Column("class_key", String(64), nullable=False),
    Column("skills", JSON, nullable=False),
    Column("language", String(20)),
    Column("candidate_groups", JSON, nullable=False),
    Column("candidate_users", JSON, nullable=False),
    Column("customer_value", Float, nullable=False),
    Column("churn_risk", Float, nullable=False),
    Column("reason", String(200)),
    Column("reason_priority", Float, nullable=False),
    Column("boost", Float, nullable=False),
    Column("attributes", JSON, nullable=False),
    Column("base", Float, nullable=False),
    Column("rank", Float, nullable=False),
    Column("review_at", UtcDateTime),
    Column("due_at", UtcDateTime),
    Column("status", String(20), nullable=False),  # queued, offered, assigned, closed
    Column("agent_id", String(100)),
    Column("offer_id", String(36)),
    Column("offer_expires_at", UtcDateTime),
    Column("excluded", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("enqueued_at", UtcDateTime, nullable=False),
    Column("assigned_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    Column("close_reason", String(20)),
    Column("sla", JSON),
    Column("sla_next_at", UtcDateTime),
    Index("ix_routing_queue_class_rank", "status", "class_key", "rank"),
    Index("ix_routing_queue_agent", "agent_id", "status"),
    Index("ix_routing_queue_review", "status", "review_at"),
    Index("ix_routing_queue_offer", "status", "offer_expires_at"),
    Index("ix_routing_queue_sla", "status", "sla_next_at"),
    Index("ix_routing_queue_instance", "instance_id"),
    Index("ix_routing_queue_due", "status", "due_at"),
)
