"""Search across customers and cases for both doors (the desktop's header box and /search, and
GET /api/v1/search): customers by name, email, phone or account number, cases by reference,
reason or what was said in them. Results are only what the caller may see: a case through the
visibility of work items (work on it offered to the caller, their groups or department, or
work:read-all), a customer when the caller may see one of their cases."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.errors import FormInvalid
from flowdesk.app.work import sees_all
from flowdesk.auth.roles import Permission
from flowdesk.routing import desk

MIN_CHARS = 2
MAX_CHARS = 200
SHOWN = 20


@dataclass
class Found:
    query: str
    customers: list[dict[str, Any]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)


def search(caller: Caller, ops: Ops, query: str, *, limit: int = SHOWN) -> Found:
    """Customers and cases matching `query` that the caller may see (FormInvalid on the field
    `q` for a query too short to be useful)."""
    require(caller, Permission.WORK_READ)
    words = " ".join(query.split())[:MAX_CHARS]
    if len(words) < MIN_CHARS:
        raise FormInvalid(
            [{"field": "q", "message": f"Type at least {MIN_CHARS} characters to search."}]
        )
    viewer = None if sees_all(caller) else (caller.username, list(caller.groups))
    limit = max(1, min(limit, 100))
    return Found(
        words,
        desk.search_customers(ops.store, words, viewer=viewer, limit=limit),
        desk.search_cases(ops.store, words, viewer=viewer, limit=limit),
    )
