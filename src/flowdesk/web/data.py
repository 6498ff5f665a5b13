"""What the pages show, read from the domain services: the agent's queue with SLA due times,
the next best item, the customer 360 and the supervisor's figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flowdesk.auth.service import Principal
from flowdesk.core.errors import NotFoundError
from flowdesk.core.events import StoredEvent
from flowdesk.customers.service import Customer, get_customer
from flowdesk.experience.service import bundle_for_definition, flows
from flowdesk.feel.durations import parse_duration
from flowdesk.routing.desk import agent_queue
from flowdesk.routing.service import departments_of
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store
from flowdesk.store.processes import ProcessRepository
from flowdesk.web.access import can_see

CUSTOMER_VARIABLES = ("customerId", "customer_id")


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class DueTimes:
    """Due time of a work item: its own due date, else created + the task's SLA in the bundle
    (bundles looked up once per definition)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._sla: dict[tuple[str, str], timedelta | None] = {}

    def __call__(self, item: dict[str, Any]) -> datetime | None:
        if item.get("due_at") is not None:
            return _utc(item["due_at"])
        key = (item["definition_id"], item["element_id"])
        if key not in self._sla:
            bundle = bundle_for_definition(self.store, item["definition_id"])
            task = bundle.tasks.get(item["element_id"]) if bundle else None
            duration = parse_duration(task.sla) if task and task.sla else None
            self._sla[key] = duration if isinstance(duration, timedelta) else None
        sla = self._sla[key]
        created = _utc(item["created_at"])
        return created + sla if sla is not None and created is not None else None


def business_keys(store: Store, instance_ids: list[str]) -> dict[str, str | None]:
    if not instance_ids:
        return {}
    with store.reading() as conn:
        return ProcessRepository(conn).business_keys(instance_ids)


def routed(store: Store, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items as routing sees them: a department set by routing (a transfer) replaces the
    flow's candidate groups and lane, so the work shows in the queue it was handed to. Routing
    queues every item under its lane's name: that one is not a move (the same rule as the
    SQL filter of `ProcessRepository.query_work_items`)."""
    departments = departments_of(store, [i["id"] for i in items])
    out = []
    for item in items:
        department = departments.get(item["id"])
        if (
            department is not None
            and department != item["lane"]
            and department not in (item["candidate_groups"] or [])
        ):
            item = {**item, "candidate_groups": [department], "lane": None}
        out.append(item)
    return out


QUEUE_PAGE = 50


@dataclass
class QueuePage:
    rows: list[dict[str, Any]]
    page: int
    has_next: bool


def my_queue(
    store: Store, principal: Principal, *, page: int = 1, size: int = QUEUE_PAGE
) -> QueuePage:
    """One page of the open items of the agent's groups that are theirs or unassigned, best
    first (priority, then oldest), each with its due time and business key. The database
    filters and pages (one row more than the page tells whether there is a next one)."""
    page = max(1, page)
    found = agent_queue(
        store, principal.username, principal.groups, limit=size + 1, offset=(page - 1) * size
    )
    rows = routed(store, found[:size])
    due = DueTimes(store)
    keys = business_keys(store, sorted({r["instance_id"] for r in rows}))
    for row in rows:
        row["due"] = due(row)
        row["business_key"] = keys.get(row["instance_id"])
    return QueuePage(rows, page, len(found) > size)


def next_best(store: Store, principal: Principal) -> dict[str, Any] | None:
    """The highest-priority, oldest item of the agent's queue (their own claimed work first)."""
    for mine_only in (True, False):
        best = agent_queue(
            store, principal.username, principal.groups, limit=1, mine_only=mine_only
        )
        if best:
            return best[0]
    return None


def work_item(store: Store, item_id: str) -> dict[str, Any]:
    with store.reading() as conn:
        row = ProcessRepository(conn).work_item(item_id)
    if row is None:
        raise NotFoundError(f"no work item {item_id!r}")
    return row


def visible_item(store: Store, principal: Principal, item_id: str) -> dict[str, Any]:
    """The item, or NotFoundError when it does not exist or is another department's (the
    page does not reveal which)."""
    item = routed(store, [work_item(store, item_id)])[0]
    if not can_see(principal, item):
        raise NotFoundError(f"no work item {item_id!r} in your queues")
    return item


@dataclass
class Customer360:
    customer: Customer | None
    customer_id: str | None
    variables: dict[str, Any]
    business_key: str | None
    timeline: list[StoredEvent] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)


def customer_id_of(variables: dict[str, Any]) -> str | None:
    """The case's customer id, from the process variable the flows use for it."""
    return next(
        (str(v) for n in CUSTOMER_VARIABLES if (v := variables.get(n)) not in (None, "")), None
    )


def customer_360(store: Store, instance_id: str) -> Customer360:
    """Profile and identities, the timeline of this case and customer, open and past cases."""
    runtime = ProcessRuntime(store)
    state = runtime.instance(instance_id)
    variables = dict(state.vars)
    customer_id = customer_id_of(variables)
    customer = None
    if customer_id:
        try:
            with store.reading() as conn:
                customer = get_customer(conn, customer_id)
        except NotFoundError:
            customer = None
    events = {e.seq: e for e in runtime.history(instance_id)}
    if customer_id:
        events.update({e.seq: e for e in store.events.where(customer_id=customer_id)})
    timeline = sorted(events.values(), key=lambda e: e.seq, reverse=True)[:60]
    cases = _cases_of(store, customer_id, instance_id)
    return Customer360(customer, customer_id, variables, state.business_key, timeline, cases)


def _cases_of(store: Store, customer_id: str | None, instance_id: str) -> list[dict[str, Any]]:
    with store.reading() as conn:
        return ProcessRepository(conn).cases_mentioning(customer_id, instance_id)


def supervisor_figures(store: Store, now: datetime, horizon: timedelta) -> dict[str, Any]:
    """Per department: open items, unassigned, oldest waiting; SLAs at risk; agents' load."""
    with store.reading() as conn:
        rows = ProcessRepository(conn).query_work_items(status="open", limit=1_000_000)
    rows = routed(store, rows)
    due = DueTimes(store)
    departments: dict[str, dict[str, Any]] = {}
    load: dict[str, int] = {}
    at_risk: list[dict[str, Any]] = []
    for row in rows:
        groups = list(row["candidate_groups"] or []) or [row["lane"] or "(none)"]
        created = _utc(row["created_at"])
        for group in groups:
            dept = departments.setdefault(
                group, {"name": group, "open": 0, "unassigned": 0, "oldest": None}
            )
            dept["open"] += 1
            if row["assignee"] is None:
                dept["unassigned"] += 1
                if dept["oldest"] is None or (created and created < dept["oldest"]):
                    dept["oldest"] = created
        if row["assignee"]:
            load[row["assignee"]] = load.get(row["assignee"], 0) + 1
        row["due"] = due(row)
        if row["due"] is not None and row["due"] <= now + horizon:
            at_risk.append(row)
    at_risk.sort(key=lambda r: r["due"])
    for dept in departments.values():
        dept["waiting"] = now - dept["oldest"] if dept["oldest"] else None
    open_by_flow: dict[str, int] = {}
    for row in rows:
        open_by_flow[row["process_key"]] = open_by_flow.get(row["process_key"], 0) + 1
    # every deployed flow with its process owner, so a supervisor knows whom to call about it
    deployed: list[dict[str, Any]] = [
        {
            "name": f.title or f.name,
            "key": f.process_key,
            "owner": f.owner,
            "open": open_by_flow.get(f.process_key, 0),
        }
        for f in flows(store)
    ]
    owners = {f["key"]: f["owner"] for f in deployed if f["owner"]}
    for row in at_risk:
        row["owner"] = owners.get(row["process_key"])
    return {
        "flows": deployed,
        "departments": sorted(departments.values(), key=lambda d: d["name"]),
        "at_risk": at_risk[:50],
        "at_risk_count": len(at_risk),
        "load": sorted(load.items(), key=lambda kv: (-kv[1], kv[0])),
        "total": len(rows),
    }
