"""Migration 0002 creates exactly the tables of customers/models.py, on both databases."""

from __future__ import annotations

from sqlalchemy import inspect

from flowdesk.customers.models import metadata
from flowdesk.store import Store, migrate


def test_migration_matches_the_models(store: Store) -> None:
    inspector = inspect(store.engine)
    tables = set(inspector.get_table_names())
    for table in metadata.sorted_tables:
        assert table.name in tables, table.name
        columns = {c["name"]: c for c in inspector.get_columns(table.name)}
        assert set(columns) == {c.name for c in table.columns}, table.name
        for column in table.columns:
            assert columns[column.name]["nullable"] == column.nullable, (table.name, column.name)
        pk = inspector.get_pk_constraint(table.name)
        assert pk["name"] in (f"pk_{table.name}", None)  # SQLite does not keep the name
        assert set(pk["constrained_columns"]) == {c.name for c in table.primary_key.columns}
        model_indexes = {i.name for i in table.indexes}
        assert model_indexes <= {i["name"] for i in inspector.get_indexes(table.name)}
    uniques = inspector.get_unique_constraints("customer_identities")
    assert [sorted(u["column_names"]) for u in uniques] == [["kind", "value"]]
    foreign = inspector.get_foreign_keys("customer_identities")
    assert [(f["referred_table"], f["constrained_columns"]) for f in foreign] == [
        ("customers", ["customer_id"])
    ]


def test_downgrade_to_0001_drops_the_customer_tables(store: Store) -> None:
    migrate.downgrade(store.engine, "0001")
    names = set(inspect(store.engine).get_table_names())
    assert not names & {t.name for t in metadata.sorted_tables}
    assert "events" in names
    store.upgrade()
    assert "customers" in inspect(store.engine).get_table_names()
