"""Tables of the process runtime: deployments, definitions, instances, work items, jobs,
subscriptions and buffered messages (migration 0004).

The instance row holds the engine's whole state as one JSON document (`state`, about 1 KB for a
waiting instance) plus the columns queries need. Work items, jobs and subscriptions are
projections of that state, kept in the same transaction, so the queue, the job acquirer and
message correlation find their rows by index instead of scanning instances.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, Integer, String, Table, Text, UniqueConstraint

from flowdesk.store.tables import UtcDateTime, metadata

deployments = Table(
    "deployments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("actor", String(100)),
)

deployment_resources = Table(
    "deployment_resources",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("deployment_id", String(36), nullable=False),
    Column("name", String(300), nullable=False),
    Column("kind", String(20), nullable=False),  # bpmn, dmn, file
    Column("sha256", String(64), nullable=False),
    Column("content", Text, nullable=False),
    Index("ix_deployment_resources_deployment_id", "deployment_id"),
)

process_definitions = Table(
    "process_definitions",
    metadata,
    Column("id", String(250), primary_key=True),  # key:version
    Column("key", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", String(300)),
    Column("deployment_id", String(36), nullable=False),
    Column("resource_id", String(36), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("key", "version", name="uq_process_definitions_key_version"),
)

process_instances = Table(
    "process_instances",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("definition_id", String(250), nullable=False),
    Column("process_key", String(200), nullable=False),
    Column("business_key", String(200)),
    Column("status", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("state", JSON, nullable=False),
    Column("parent_id", String(36)),
    Column("parent_token", String(64)),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime),
    Index("ix_process_instances_business_key", "business_key"),
    Index("ix_process_instances_status", "status", "process_key"),
    Index("ix_process_instances_parent", "parent_id", "parent_token"),
)

work_items = Table(
    "work_items",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("instance_id", String(36), nullable=False),
    Column("definition_id", String(250), nullable=False),
    Column("process_key", String(200), nullable=False),
    Column("element_id", String(200), nullable=False),
    Column("name", String(300)),
    Column("lane", String(200)),
    Column("assignee", String(100)),
    Column("candidate_groups", JSON, nullable=False),
    Column("candidate_users", JSON, nullable=False),
    Column("form_key", String(300)),
    Column("due_at", UtcDateTime),
    Column("priority", Integer),
    Column("status", String(20), nullable=False),  # open, completed, cancelled
    Column("created_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime),
    Column("closed_by", String(100)),
    Index("ix_work_items_status_assignee", "status", "assignee"),
    Index("ix_work_items_instance_id", "instance_id"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("instance_id", String(36)),  # null for timer start events
    Column("definition_id", String(250)),
    Column("kind", String(20), nullable=False),  # timer, async, external, start-timer
    Column("element_id", String(200), nullable=False),
    Column("topic", String(200)),
    Column("due_at", UtcDateTime),
    Column("retries", Integer),
    Column("attempts", Integer, nullable=False),
    Column("locked_by", String(100)),
    Column("lock_expires_at", UtcDateTime),
    Column("last_error", Text),
    Column("status", String(20), nullable=False),  # ready, incident
    Column("payload", JSON),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_jobs_kind_due", "kind", "status", "due_at"),
    Index("ix_jobs_topic", "topic", "status"),
    Index("ix_jobs_instance_id", "instance_id"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", String(120), primary_key=True),
    Column("instance_id", String(36)),  # null: a start event of a definition
    Column("definition_id", String(250)),
    Column("kind", String(20), nullable=False),  # message, signal
    Column("name", String(300), nullable=False),
    Column("correlation_key", String(300)),
    Column("element_id", String(200), nullable=False),
    Index("ix_subscriptions_lookup", "kind", "name", "correlation_key"),
    Index("ix_subscriptions_instance_id", "instance_id"),
)

buffered_messages = Table(
    "buffered_messages",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("correlation_key", String(300)),
    Column("variables", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index("ix_buffered_messages_lookup", "name", "correlation_key"),
)

# Triggers of parallel multiple start events (BPMN 10.5.2: "all of the triggers must occur
# before the Process is instantiated"), held outside any instance until the set is complete
# (migration 0012_start_triggers). `trigger` is "message:NAME", "signal:NAME" or "timer".
start_triggers = Table(
    "start_triggers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("definition_id", String(250), nullable=False),
    Column("element_id", String(200), nullable=False),
    Column("trigger", String(310), nullable=False),
    Column("correlation_key", String(300)),
    Column("variables", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_start_triggers_lookup", "definition_id", "element_id"),
)
