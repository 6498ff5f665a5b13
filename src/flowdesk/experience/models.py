"""Tables of the experience domain (migration 0007): deployed bundles, which bundle serves
which process definition version, and the catalog of contact reasons.

A bundle's experience is stored as one JSON document per deployment (`content`), its files as
deployed in `experience_bundle_files` (migration 0009: what versions are diffed and rolled back
from; `number` counts the deployments of one bundle name, 1, 2, ...), and
`experience_definitions` maps every process definition version the deployment produced (or
kept unchanged) to it, so a running instance keeps the experience of the version it started
on while new instances get the new one. A contact reason belongs to the bundle deployed last.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, Integer, LargeBinary, String, Table, Text

from flowdesk.store.tables import UtcDateTime, metadata

experience_bundles = Table(
    "experience_bundles",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("version", String(50)),
    Column("title", String(300)),
    Column("process_key", String(200), nullable=False),
    Column("deployment_id", String(36), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("actor", String(100)),
    Column("number", Integer),  # 1, 2, ... per bundle name (null only before migration 0009)
    Column("definitions", JSON),  # the process definition ids the deployment ran on
    Index("ix_experience_bundles_name", "name"),
)

experience_bundle_files = Table(
    "experience_bundle_files",
    metadata,
    Column("bundle_id", String(36), primary_key=True),
    Column("name", String(500), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
)

experience_definitions = Table(
    "experience_definitions",
    metadata,
    Column("definition_id", String(250), primary_key=True),
    Column("bundle_id", String(36), nullable=False),
    Column("process_key", String(200), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

contact_reasons = Table(
    "contact_reasons",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("description", Text),
    Column("channels", JSON, nullable=False),
    Column("process_key", String(200), nullable=False),
    Column("bundle_name", String(100), nullable=False),
    Column("bundle_id", String(36), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
