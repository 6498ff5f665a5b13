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


def work_page(
    store: Store,
    *,
    visible_to: tuple[str, Sequence[str]] | None,
    status: str | None = "open",
    limit: int,
    offset: int = 0,
    **filters: Any,
) -> list[dict[str, Any]]:
    """One page of work items, filtered in SQL; `visible_to` (username, groups) keeps those
    offered to that user or their groups, with routing's transfers applied (None: all)."""
    if visible_to is not None:
        filters.update(
            groups_visible=list(visible_to[1]), user=visible_to[0], department=routed_department()
        )
    with store.reading() as conn:
        return ProcessRepository(conn).query_work_items(
            status=status, limit=limit, offset=offset, **filters
        )


def work_item(store: Store, item_id: str) -> dict[str, Any] | None:
    with store.reading() as conn:
        return ProcessRepository(conn).work_item(item_id)


def business_keys(store: Store, instance_ids: list[str]) -> dict[str, str | None]:
    if not instance_ids:
        return {}
    with store.reading() as conn:
        return ProcessRepository(conn).business_keys(instance_ids)


def instance_page(
    store: Store,
    *,
    worked_by: tuple[str, Sequence[str]] | None,
    limit: int,
    offset: int = 0,
    **filters: Any,
) -> list[dict[str, Any]]:
    """Process instances, newest first; `worked_by` (username, groups) keeps those on which the
    user or one of the groups has or had work (routing's transfers applied; None: all)."""
    with store.reading() as conn:
        repo = ProcessRepository(conn)
        condition = (
            repo.offered_to(worked_by[1], worked_by[0], routed_department())
            if worked_by is not None
            else None
        )
        return repo.instances(worked_by=condition, limit=limit, offset=offset, **filters)


def cases_mentioning(
    store: Store, customer_id: str | None, instance_id: str
) -> list[dict[str, Any]]:
    """The customer's other cases (instances naming the customer), for the 360 view."""
    with store.reading() as conn:
        return ProcessRepository(conn).cases_mentioning(customer_id, instance_id)
