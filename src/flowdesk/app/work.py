"""Work items as both doors serve them: who sees which item, the agent's queue with due times,
next best work, claim, give back, delegate, transfer, complete (with the step's form check) and
notes. The API answers JSON and the desktop HTML, but the rules are these, in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flowdesk.app import organisation
from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.errors import FormInvalid
from flowdesk.app.forms import bundle_form, validate_form
from flowdesk.auth import service as auth
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Forbidden
from flowdesk.core.errors import ConflictError, NotFoundError
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent
from flowdesk.engine.state import InstanceState
from flowdesk.experience.service import bundle_for_definition, bundle_id_on
from flowdesk.feel.durations import parse_duration
from flowdesk.routing import desk
from flowdesk.routing.service import departments_of

QUEUE_PAGE = 50
CUSTOMER_VARIABLES = ("customerId", "customer_id")
NOTE_MAX = 4000
QUEUE_SORTS = desk.QUEUE_SORTS
QUEUE_SCOPES = desk.QUEUE_SCOPES


def sees_all(caller: Caller) -> bool:
    return caller.can(Permission.WORK_READ_ALL)


def can_see(caller: Caller, item: dict[str, Any]) -> bool:
    """An item is visible to its assignee, its candidate users, members of its candidate groups
    or lane (department), and to those who may read all work. `item` is as routing sees it
    (see `routed`)."""
    if sees_all(caller):
        return True
    groups = set(caller.groups)
    return bool(
        item.get("assignee") == caller.username
        or caller.username in (item.get("candidate_users") or [])
        or groups.intersection(item.get("candidate_groups") or [])
        or (item.get("lane") is not None and item["lane"] in groups)
    )


def routed(ops: Ops, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items as routing sees them: a department set by routing (a transfer) replaces the flow's
    candidate groups and lane, so the work shows in the queue it was handed to. Routing queues
    every item under its lane's name: that one is not a move (the same rule as the SQL filter
    of `routing.desk.routed_department`)."""
    departments = departments_of(ops.store, [i["id"] for i in items])
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


def utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class DueTimes:
    """Due time of a work item: its own due date, else created + the step's SLA in the bundle
    (bundles looked up once per definition)."""

    def __init__(self, ops: Ops) -> None:
        self.ops = ops
        self._sla: dict[tuple[str, str], timedelta | None] = {}

    def __call__(self, item: dict[str, Any]) -> datetime | None:
        if item.get("due_at") is not None:
            return utc(item["due_at"])
        sla = self.sla_of(item["definition_id"], item["element_id"])
        created = utc(item["created_at"])
        return created + sla if sla is not None and created is not None else None

    def sla_of(self, definition_id: str, element_id: str) -> timedelta | None:
        """The step's SLA in its bundle, if it has one."""
        key = (definition_id, element_id)
        if key not in self._sla:
            bundle = bundle_for_definition(self.ops.store, definition_id)
            task = bundle.tasks.get(element_id) if bundle else None
            duration = parse_duration(task.sla) if task and task.sla else None
            self._sla[key] = duration if isinstance(duration, timedelta) else None
        return self._sla[key]

    def fill(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each row with its `due` time and its instance's `business_key`."""
        keys = desk.business_keys(self.ops.store, sorted({r["instance_id"] for r in rows}))
        for row in rows:
            row["due"] = self(row)
            row["business_key"] = keys.get(row["instance_id"])
        return rows


def customer_id_of(variables: Mapping[str, Any]) -> str | None:
    """The case's customer id, from the process variable the flows use for it."""
    return next(
        (str(v) for n in CUSTOMER_VARIABLES if (v := variables.get(n)) not in (None, "")), None
    )


# -- reading ---------------------------------------------------------------------------------
def get_item(caller: Caller, ops: Ops, item_id: str) -> dict[str, Any]:
    """The item as routing sees it; NotFoundError when there is none, Forbidden when it is not
    offered to the caller, their groups or department."""
    require(caller, Permission.WORK_READ)
    row = desk.work_item(ops.store, item_id)
    if row is None:
        raise NotFoundError(f"no work item {item_id!r}")
    item = routed(ops, [row])[0]
    if not can_see(caller, item):
        raise Forbidden(
            f"work item {item_id} is not offered to {caller.username} or their groups",
            hint="a supervisor can delegate it to you",
        )
    return item


@dataclass
class ItemDetail:
    item: dict[str, Any]
    business_key: str | None
    variables: dict[str, Any]


def item_detail(caller: Caller, ops: Ops, item_id: str) -> ItemDetail:
    """One visible item with its instance's variables (to fill the form) while it is open."""
    item = get_item(caller, ops, item_id)
    if item["status"] != "open":
        return ItemDetail(item, None, {})
    state = ops.runtime.instance(item["instance_id"])
    return ItemDetail(item, state.business_key, dict(state.vars))


def list_work(
    caller: Caller,
    ops: Ops,
    *,
    assignee: str | None = None,
    candidate_group: str | None = None,
    process_key: str | None = None,
    due_before: datetime | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Open items the caller may see, highest priority first, then oldest."""
    require(caller, Permission.WORK_READ)
    mine = None if sees_all(caller) else (caller.username, list(caller.groups))
    return desk.work_page(
        ops.store,
        visible_to=mine,
        assignee=assignee,
        candidate_group=candidate_group,
        process_key=process_key,
        due_before=utc(due_before),
        limit=limit,
        offset=offset,
    )


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What the agent narrows and orders My work by; applied in SQL (`desk.queue_page`).
    `scope`: None (mine and unassigned), "mine" or "unassigned"; `sort`: priority, due, age."""

    channel: str | None = None
    flow: str | None = None
    overdue: bool = False
    scope: str | None = None
    sort: str = "priority"


@dataclass
class QueuePage:
    rows: list[dict[str, Any]]
    page: int
    has_next: bool
    flows: list[str] = field(default_factory=list)


def _check_filter(f: QueueFilter) -> None:
    problems = []
    if f.sort not in desk.QUEUE_SORTS:
        problems.append(
            {"field": "sort", "message": f"Sort by one of {', '.join(desk.QUEUE_SORTS)}."}
        )
    if f.scope is not None and f.scope not in desk.QUEUE_SCOPES:
        problems.append(
            {"field": "scope", "message": f"Show one of {', '.join(desk.QUEUE_SCOPES)}."}
        )
    if problems:
        raise FormInvalid(problems)


def my_queue(
    caller: Caller,
    ops: Ops,
    *,
    page: int = 1,
    size: int = QUEUE_PAGE,
    filters: QueueFilter | None = None,
) -> QueuePage:
    """One page of the open items of the caller's groups that are theirs or unassigned, best
    first (or as `filters` says), each with its due time, business key, case channel and
    customer name (one row more tells whether there is a next page). Filters and order are
    SQL: the due time of an item without its own is created + the step's SLA from the bundle,
    passed to the query as a table of the steps that have open work."""
    require(caller, Permission.WORK_READ)
    f = filters or QueueFilter()
    _check_filter(f)
    page = max(1, page)
    due_times = DueTimes(ops)
    steps = desk.open_steps(ops.store)
    sla = {
        (d, e): s.total_seconds() for d, e, _ in steps if (s := due_times.sla_of(d, e)) is not None
    }
    found = desk.queue_page(
        ops.store,
        caller.username,
        caller.groups,
        limit=size + 1,
        offset=(page - 1) * size,
        sla_seconds=sla,
        channel=f.channel or None,
        process_key=f.flow or None,
        overdue_at=ops.clock.now() if f.overdue else None,
        scope=f.scope,
        sort=f.sort,
    )
    rows = due_times.fill(routed(ops, found[:size]))
    _routing_view(ops, rows)
    flows = sorted({p for _, _, p in steps})
    return QueuePage(rows, page, len(found) > size, flows)


def _routing_view(ops: Ops, rows: list[dict[str, Any]]) -> None:
    """Each row's priority and due time as routing has them (SLA policy on the business
    calendar, customer value and risk, aging), where routing queues the item."""
    routing = ops.service("routing")
    if routing is None or not rows:
        return
    scores = routing.scores([r["id"] for r in rows])
    for row in rows:
        if row["id"] in scores:
            score, due = scores[row["id"]]
            row["priority"] = round(score)
            if due is not None:
                row["due"] = utc(due)


def best_item(caller: Caller, ops: Ops, *, mine_only: bool | None = None) -> dict[str, Any] | None:
    """The highest-priority, oldest item of the caller's queue (their own claimed work first;
    `mine_only` True: only that, False: only unclaimed), with its due time; None when there is
    none."""
    require(caller, Permission.WORK_READ)
    for mine in (True, False) if mine_only is None else (mine_only,):
        best = desk.agent_queue(ops.store, caller.username, caller.groups, limit=1, mine_only=mine)
        if best:
            return DueTimes(ops).fill(routed(ops, best))[0]
    return None


# -- acting ----------------------------------------------------------------------------------
def claim(caller: Caller, ops: Ops, item_id: str) -> dict[str, Any]:
    require(caller, Permission.WORK_ACT)
    get_item(caller, ops, item_id)
    ops.runtime.claim(item_id, caller.username)
    return get_item(caller, ops, item_id)


def _check_holder(caller: Caller, item: dict[str, Any], action: str) -> None:
    """Only the assignee (or a supervisor) may give away an item someone has claimed."""
    if item["assignee"] not in (None, caller.username) and not caller.can(Permission.SUPERVISE):
        raise ConflictError(
            f"work item {item['id']} is claimed by {item['assignee']}",
            hint=f"only they or a supervisor can {action} it",
        )


def unclaim(caller: Caller, ops: Ops, item_id: str) -> dict[str, Any]:
    """Give a claimed item back to the queue (the assignee, or a supervisor)."""
    require(caller, Permission.WORK_ACT)
    item = get_item(caller, ops, item_id)
    if item["assignee"] is None:
        raise ConflictError(f"work item {item_id} is not claimed by anyone")
    _check_holder(caller, item, "unclaim")
    ops.runtime.unclaim(item_id, caller.username)
    return get_item(caller, ops, item_id)


def delegate(caller: Caller, ops: Ops, item_id: str, to_user: str) -> dict[str, Any]:
    """Hand the item to another user (the assignee, or a supervisor); an unknown user is an
    error, not a lost item."""
    require(caller, Permission.WORK_ACT)
    _check_holder(caller, get_item(caller, ops, item_id), "delegate")
    auth.get_user(ops.store, to_user)
    ops.runtime.delegate(item_id, to_user, actor=caller.username)
    row = desk.work_item(ops.store, item_id)
    assert row is not None
    return routed(ops, [row])[0]


def transfer(
    caller: Caller, ops: Ops, item_id: str, *, department: str, reason: str | None = None
) -> None:
    """Hand the item over to another department through routing (it leaves this queue)."""
    require(caller, Permission.WORK_ACT)
    _check_holder(caller, get_item(caller, ops, item_id), "transfer")
    if not department.strip():
        raise FormInvalid([{"field": "to", "message": "Say which department to hand it to."}])
    routing = organisation.routing_of(ops)
    routing.sync()  # the queue follows the event log; make sure it has this item
    routing.transfer(
        item_id,
        reason=reason or "transferred by " + caller.username,
        department=department.strip(),
        actor=caller.username,
    )


def complete(caller: Caller, ops: Ops, item_id: str, variables: dict[str, Any]) -> InstanceState:
    """Complete the item with the answers of its form. The step's form (JSON Schema in the
    bundle) is checked against the instance's variables overlaid with the answers, so both
    doors refuse the same incomplete or malformed submissions (FormInvalid, one error per
    field). 409 when someone else claimed it. The check runs inside the completing command
    (its transaction has the item and the instance already), so it costs no read of its own."""
    require(caller, Permission.WORK_ACT)
    if not sees_all(caller):
        get_item(caller, ops, item_id)  # 403 for an item of another department

    def form_check(conn: Any, definition_id: str, element_id: str, current: Any) -> None:
        schema = bundle_form(ops.store, bundle_id_on(conn, definition_id), element_id)
        if schema is not None:
            problems = validate_form(schema, {**current, **variables})
            if problems:
                raise FormInvalid(problems)

    return ops.runtime.complete_work_item(
        item_id, variables, actor=caller.username, check=form_check
    )


def following_items(caller: Caller, ops: Ops, state: InstanceState) -> list[dict[str, Any]]:
    """The instance's open items after a completion (what the caller is shown next)."""
    if state.status != "active":
        return []
    return ops.runtime.work_items(instance_id=state.id)


def add_note(caller: Caller, ops: Ops, item_id: str, text: str) -> None:
    """An internal note on the item's case: in the event log, never sent to the customer."""
    require(caller, Permission.WORK_ACT)
    item = get_item(caller, ops, item_id)
    text = text.strip()
    if not text:
        raise FormInvalid([{"field": "note", "message": "The note is empty."}])
    if len(text) > NOTE_MAX:
        raise FormInvalid(
            [{"field": "note", "message": f"The note is longer than {NOTE_MAX} characters."}]
        )
    customer_id = customer_id_of(ops.runtime.instance(item["instance_id"]).vars)
    with ops.store.unit_of_work() as uow:
        uow.append(
            NewEvent(
                EventType.WORK_ITEM_NOTE_ADDED,
                ops.clock.now(),
                {"work_item_id": item_id, "text": text},
                process_instance_id=item["instance_id"],
                customer_id=customer_id,
                element_id=item["element_id"],
                actor=caller.username,
                department=item["lane"],
            )
        )
