"""Membership tests on JSON list columns, in SQL, on SQLite and PostgreSQL.

Work items keep their candidate groups and users as JSON lists (portable types only, JSON
rather than JSONB). Filtering them in Python meant loading every open item to show one page of
a queue; these expressions let the database filter, so a page is a LIMIT/OFFSET query.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, exists, false, func, literal, select


def json_list_has(
    column: Any, values: Sequence[str] | ColumnElement[Any], dialect: str
) -> ColumnElement[bool]:
    """True where the JSON list in `column` holds one of `values` (a list of strings, or a SQL
    expression for one value, e.g. a correlated subquery)."""
    if isinstance(values, Sequence) and not isinstance(values, str) and not values:
        return false()
    if dialect == "postgresql":
        elements = func.json_array_elements_text(
            func.coalesce(column, literal("[]").cast(column.type))
        ).table_valued("value")
    else:
        elements = func.json_each(column).table_valued("value")
    value = elements.c.value
    test = value.in_(list(values)) if isinstance(values, Sequence) else value == values
    return exists(select(literal(1)).select_from(elements).where(test))
