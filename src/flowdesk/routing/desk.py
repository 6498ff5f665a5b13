"""The agent's own queue as the desktop pages it: open work items of the agent's groups that are
unassigned or theirs, one page at a time, filtered and ordered in SQL.

A transfer puts an item in another department (routing's queue row); that department then
replaces the flow's candidate groups and lane, so the item shows in the queue it was handed to
and no longer in the old one. The override is a correlated subquery on routing's queue, so the
page is still one LIMIT/OFFSET query instead of loading every open item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, null, or_, select

from flowdesk.cases.models import cases
from flowdesk.contacts.models import contacts
from flowdesk.customers.models import customer_identities, customers
from flowdesk.routing.models import routing_queue
from flowdesk.store import Store
from flowdesk.store.process_tables import process_instances, work_items
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


#: How the agent's queue can be ordered: best first (priority, then oldest), by due time
#: (its own, else created + the step's SLA), or oldest first.
QUEUE_SORTS = ("priority", "due", "age")
QUEUE_SCOPES = ("mine", "unassigned")


def _epoch(column: Any, dialect: str) -> ColumnElement[Any]:
    """Seconds since 1970 of a timestamp column, on SQLite (UTC wall time) and PostgreSQL."""
    if dialect == "postgresql":
        return func.extract("epoch", column)
    return (func.julianday(column) - 2440587.5) * 86400.0


def open_steps(store: Store) -> list[tuple[str, str, str]]:
    """(definition, element, process key) of the steps that have open work: the SLA table the
    queue's due-time expression needs, and the flows its filter offers."""
    w = work_items.c
    with store.reading() as conn:
        rows = conn.execute(
            select(w.definition_id, w.element_id, w.process_key)
            .where(w.status == "open")
            .distinct()
        ).all()
    return sorted((r[0], r[1], r[2]) for r in rows)


def queue_page(
    store: Store,
    username: str,
    groups: Sequence[str],
    *,
    limit: int,
    offset: int = 0,
    sla_seconds: Mapping[tuple[str, str], float] | None = None,
    channel: str | None = None,
    process_key: str | None = None,
    overdue_at: datetime | None = None,
    scope: str | None = None,
    sort: str = "priority",
) -> list[dict[str, Any]]:
    """One page of the agent's queue (offered to them or their groups, unassigned or theirs),
    filtered and ordered in SQL. Each row also carries `channel` (where its case was opened),
    `customer_name` and `case_reference` from the case of its instance, and `due_epoch`.

    The due time is the item's own, else created + the step's SLA (`sla_seconds`, per
    definition and element): a CASE over the few steps with open work, so `overdue_at` and
    the `due` sort stay in the query instead of loading every open item."""
    w = work_items.c
    c = cases.c
    with store.reading() as conn:
        dialect = conn.dialect.name
        repo = ProcessRepository(conn)
        steps = [
            (and_(w.definition_id == d, w.element_id == e), literal(float(s)))
            for (d, e), s in (sla_seconds or {}).items()
        ]
        sla = case(*steps, else_=null()) if steps else null()
        due = func.coalesce(_epoch(w.due_at, dialect), _epoch(w.created_at, dialect) + sla)
        # the case of the item's instance, through aliases correlated to the work item only
        # (the same table in nested subqueries would correlate to the wrong level)
        first, row_case, owner = cases.alias("first_case"), cases.alias("row_case"), cases.alias()
        case_of = (
            select(first.c.id)
            .where(first.c.instance_id == w.instance_id)
            .correlate(work_items)
            .order_by(first.c.opened_at)
            .limit(1)
            .scalar_subquery()
        )
        customer_of = select(owner.c.customer_id).where(owner.c.id == case_of).scalar_subquery()
        person = customers.c
        name = (
            select(
                func.coalesce(
                    person.display_name,
                    func.trim(
                        func.coalesce(person.given_name, "")
                        + " "
                        + func.coalesce(person.family_name, "")
                    ),
                )
            )
            .where(person.id == customer_of)
            .scalar_subquery()
        )
        # a flow started without a case (API, tests) names its customer in a variable
        pi = process_instances.c
        told = (
            select(pi.state["vars"]["customerName"].as_string())
            .where(pi.id == w.instance_id)
            .scalar_subquery()
        )
        query = select(
            work_items,
            select(row_case.c.channel)
            .where(row_case.c.id == case_of)
            .scalar_subquery()
            .label("channel"),
            select(row_case.c.reference)
            .where(row_case.c.id == case_of)
            .scalar_subquery()
            .label("case_reference"),
            func.coalesce(name, told).label("customer_name"),
            due.label("due_epoch"),
        ).where(
            w.status == "open",
            repo.offered_to(list(groups), username, routed_department()),
        )
        if scope == "mine":
            query = query.where(w.assignee == username)
        elif scope == "unassigned":
            query = query.where(w.assignee.is_(None))
        else:
            query = query.where(or_(w.assignee.is_(None), w.assignee == username))
        if process_key:
            query = query.where(w.process_key == process_key)
        if channel:
            query = query.where(
                exists(select(c.id).where(c.instance_id == w.instance_id, c.channel == channel))
            )
        if overdue_at is not None:
            query = query.where(due < overdue_at.timestamp())
        if sort == "due":
            order = [due.asc().nulls_last(), w.priority.desc().nulls_last(), w.created_at]
        elif sort == "age":
            order = [w.created_at.asc()]
        else:  # routing's rank orders by its priority (SLA x value x risk, aging) at any instant
            rank = (
                select(routing_queue.c.rank)
                .where(routing_queue.c.id == w.id, routing_queue.c.source == "work_item")
                .limit(1)
                .scalar_subquery()
            )
            order = [rank.asc().nulls_last(), w.priority.desc().nulls_last(), w.created_at]
        query = query.order_by(*order, w.id).limit(limit).offset(offset)
        return [dict(r._mapping) for r in conn.execute(query)]


# -- search ------------------------------------------------------------------------------------
def _like(text: str) -> str:
    """A LIKE pattern that finds `text` anywhere, its own % and _ taken literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _worked_on(
    repo: ProcessRepository, instance: Any, viewer: tuple[str, Sequence[str]]
) -> ColumnElement[bool]:
    """The instance has (or had) work offered to the viewer or their groups (routing's
    transfers applied): the visibility of work items, for a case."""
    w = work_items.c
    return exists(
        select(w.id).where(
            w.instance_id == instance,
            repo.offered_to(list(viewer[1]), viewer[0], routed_department()),
        )
    )


def search_cases(
    store: Store, words: str, *, viewer: tuple[str, Sequence[str]] | None, limit: int = 20
) -> list[dict[str, Any]]:
    """Cases whose reference, reason or contacts' text holds `words` (any case), newest first,
    each with its customer's name and the best work item to open it by (an open one first).
    `viewer` (username, groups) keeps the cases with work offered to them (None: all)."""
    c = cases.c
    k = contacts.c
    pattern = _like(words)
    with store.reading() as conn:
        repo = ProcessRepository(conn)
        said = exists(
            select(k.id).where(
                k.case_id == c.id,
                or_(
                    func.lower(k.text).like(pattern, escape="\\"),
                    func.lower(k.subject).like(pattern, escape="\\"),
                ),
            )
        )
        query = select(cases).where(
            or_(
                func.lower(c.reference).like(pattern, escape="\\"),
                func.lower(c.reason).like(pattern, escape="\\"),
                said,
            )
        )
        return _cases(conn, repo, query, viewer, limit)


def _cases(
    conn: Any,
    repo: ProcessRepository,
    query: Any,
    viewer: tuple[str, Sequence[str]] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """The cases of `query` the viewer may see, newest first, each with its customer's name
    and the work item to open it by (an open one first, else the latest)."""
    c = cases.c
    w = work_items.c
    if viewer is not None:
        query = query.where(_worked_on(repo, c.instance_id, viewer))
    rows = [dict(r._mapping) for r in conn.execute(query.order_by(c.opened_at.desc()).limit(limit))]
    for row in rows:
        items = select(w.id).where(w.instance_id == row["instance_id"])
        if viewer is not None:
            items = items.where(repo.offered_to(list(viewer[1]), viewer[0], routed_department()))
        open_first = case((w.status == "open", 0), else_=1)
        row["item_id"] = conn.execute(
            items.order_by(open_first, w.created_at.desc()).limit(1)
        ).scalar()
        row["customer_name"] = _name_of(conn, row["customer_id"])
    return rows


def _name_of(conn: Any, customer_id: str | None) -> str | None:
    p = customers.c
    row = conn.execute(
        select(p.display_name, p.given_name, p.family_name).where(p.id == customer_id)
    ).first()
    if row is None:
        return None
    return row[0] or " ".join(x for x in (row[1], row[2]) if x) or None


def search_customers(
    store: Store, words: str, *, viewer: tuple[str, Sequence[str]] | None, limit: int = 20
) -> list[dict[str, Any]]:
    """Customers whose name, email, phone or account number holds `words` (a phone number is
    matched on its digits, so 07946 022222 finds +447946022222), each with their cases.
    `viewer` keeps the customers with a case that has work offered to them (None: all)."""
    p = customers.c
    i = customer_identities.c
    c = cases.c
    pattern = _like(words)
    digits = "".join(ch for ch in words if ch.isdigit()).lstrip("0")
    with store.reading() as conn:
        repo = ProcessRepository(conn)
        by_identity = [
            and_(i.kind.in_(("email", "account")), func.lower(i.value).like(pattern, escape="\\"))
        ]
        if len(digits) >= 6:
            by_identity.append(and_(i.kind == "phone", i.value.like(f"%{digits}%")))
        name = func.lower(
            func.coalesce(p.display_name, "")
            + " "
            + func.coalesce(p.given_name, "")
            + " "
            + func.coalesce(p.family_name, "")
        )
        query = select(p.id, p.display_name, p.given_name, p.family_name, p.segment).where(
            p.status != "merged",
            or_(
                name.like(pattern, escape="\\"),
                exists(select(i.id).where(i.customer_id == p.id, or_(*by_identity))),
            ),
        )
        if viewer is not None:
            query = query.where(
                exists(
                    select(c.id).where(
                        c.customer_id == p.id,
                        _worked_on(repo, c.instance_id, viewer),
                    )
                )
            )
        rows = [
            dict(r._mapping) for r in conn.execute(query.order_by(p.family_name, p.id).limit(limit))
        ]
        for row in rows:
            row["name"] = row["display_name"] or " ".join(
                x for x in (row["given_name"], row["family_name"]) if x
            )
            row["identities"] = [
                {"kind": r[0], "value": r[1]}
                for r in conn.execute(
                    select(i.kind, i.value).where(i.customer_id == row["id"]).order_by(i.kind)
                )
            ]
            row["cases"] = _cases(
                conn, repo, select(cases).where(c.customer_id == row["id"]), viewer, 10
            )
    return rows
