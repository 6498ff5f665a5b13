"""The agent's own queue as the desktop pages it: open work items of the agent's groups that are
unassigned or theirs, one page at a time, filtered and ordered in SQL.

A transfer puts an item in another department (routing's queue row); that department then
replaces the flow's candidate groups and lane, so the item shows in the queue it was handed to
and no longer in the old one. The override is a correlated subquery on routing's queue, so the
page is still one LIMIT/OFFSET query instead of loading every open item.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, select

from flowdesk.routing.models import routing_queue
from flowdesk.store import Store
from flowdesk.store.process_tables import work_items
from flowdesk.store.processes import ProcessRepository


def routed_department() -> ColumnElement[Any]:
    """Per work item: the department routing has put it in, or NULL."""
    q = routing_queue.c
    return (
        select(q.department)
        .where(q.id == work_items.c.id, q.source == "work_item", q.department.is_not(None))
        .limit(1)
        .scalar_subquery()
    )


def agent_queue(
    store: Store,
    username: str,
    groups: Sequence[str],
    *,
    limit: int,
    offset: int = 0,
    mine_only: bool = False,
) -> list[dict[str, Any]]:
    """One page of the agent's queue, best first (priority, then oldest): items offered to the
    agent or their groups that nobody else has claimed (`mine_only`: the ones they claimed)."""
    with store.reading() as conn:
        return ProcessRepository(conn).query_work_items(
            status="open",
            groups_visible=list(groups),
            user=username,
            assignee=username if mine_only else None,
            claimable_by=None if mine_only else username,
            department=routed_department(),
            limit=limit,
            offset=offset,
        )
