"""Migration 0008 creates exactly the contacts, reason model and case tables (both backends)."""

from __future__ import annotations

from sqlalchemy import inspect

from flowdesk.cases.models import cases
from flowdesk.contacts.models import contacts, reason_models
from flowdesk.store import Store


def test_migration_matches_the_tables(store: Store) -> None:
    inspector = inspect(store.engine)
    for table in (contacts, reason_models, cases):
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == {c.name for c in table.columns}, table.name
        indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        assert {i.name for i in table.indexes} <= indexes, table.name
