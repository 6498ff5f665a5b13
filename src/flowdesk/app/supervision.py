"""The supervisor's view of the live operation and what a supervisor does about it.

Figures: per department the open, assigned and unassigned work, the oldest waiting, SLAs at risk
within the horizon and breached, contacts waiting for triage; agents' presence and load; every
deployed flow with its process owner. Drill-down: the work behind any of those counts. Actions
(reassign, priority, an agent's presence) go through the runtime's and routing's commands, so
each one is a fact in the event log with the supervisor as its actor."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from flowdesk.app import organisation, triage
from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.errors import FormInvalid
from flowdesk.app.organisation import routing_of
from flowdesk.app.work import DueTimes, customer_id_of, routed, utc
from flowdesk.auth import service as auth
from flowdesk.auth.roles import Permission
from flowdesk.core.errors import ConflictError, FlowdeskError, NotFoundError
from flowdesk.experience.service import bundle_for_definition, flows
from flowdesk.routing import desk
from flowdesk.routing.domain import Presence
from flowdesk.routing.triage import waiting_by_department

RISK_HORIZON = timedelta(hours=1)


#: The drill-down states of the work list (the wallboard's count columns).
STATES = ("unassigned", "assigned", "at-risk", "breached")
#: Work items' priority range (Camunda's convention: higher is more urgent, 50 the default).
PRIORITY_MIN, PRIORITY_MAX, DEFAULT_PRIORITY = 0, 100, 50
LIST_LIMIT = 200


def _departments_of(row: dict[str, Any]) -> list[str]:
    return list(row["candidate_groups"] or []) or [row["lane"] or "(none)"]


def _states(row: dict[str, Any], now: datetime, horizon: timedelta) -> set[str]:
    """Which drill-down states an item is in (an item is in one of the first two, and maybe
    also at risk or breached)."""
    out = {"assigned" if row["assignee"] else "unassigned"}
    due = row.get("due")
    if due is not None:
        if due < now:
            out.add("breached")
        elif due <= now + horizon:
            out.add("at-risk")
    return out


def _open_rows(ops: Ops) -> list[dict[str, Any]]:
    rows = routed(ops, desk.work_page(ops.store, visible_to=None, limit=1_000_000))
    due = DueTimes(ops)
    for row in rows:
        row["due"] = due(row)
    return rows


def supervisor_figures(
    caller: Caller, ops: Ops, *, horizon: timedelta = RISK_HORIZON
) -> dict[str, Any]:
    """Per department: open items (with contacts waiting for triage), assigned, unassigned,
    oldest waiting, at risk and breached; SLAs at risk; agents' presence and load."""
    require(caller, Permission.SUPERVISE)
    now = ops.clock.now()
    rows = _open_rows(ops)
    departments: dict[str, dict[str, Any]] = {}
    load: dict[str, int] = {}
    at_risk: list[dict[str, Any]] = []

    def department(name: str) -> dict[str, Any]:
        blank = {"name": name, "open": 0, "unassigned": 0, "oldest": None, "triage": 0}
        return departments.setdefault(name, {**blank, **dict.fromkeys(STATES[1:], 0)})

    for row in rows:
        created = utc(row["created_at"])
        states = _states(row, now, horizon)
        for group in _departments_of(row):
            dept = department(group)
            dept["open"] += 1
            for state in states:
                dept[state] += 1
            if row["assignee"] is None and (
                dept["oldest"] is None or (created and created < dept["oldest"])
            ):
                dept["oldest"] = created
        if row["assignee"]:
            load[row["assignee"]] = load.get(row["assignee"], 0) + 1
        if row["due"] is not None and row["due"] <= now + horizon:
            at_risk.append(row)
    # contacts waiting for triage are work of the same people: counted with the open work
    for name, waiting in waiting_by_department(ops.store, now).items():
        dept = department(name)
        dept["triage"] = waiting.waiting
        dept["triage_overdue"] = waiting.overdue
        dept["open"] += waiting.waiting
        dept["unassigned"] += waiting.unassigned
        if waiting.oldest is not None and waiting.unassigned:
            oldest = utc(waiting.oldest)
            if dept["oldest"] is None or (oldest and oldest < dept["oldest"]):
                dept["oldest"] = oldest
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
        for f in flows(ops.store)
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
        "agents": _agents(ops, load),
        "total": len(rows),
        "now": now,
    }


def _agents(ops: Ops, load: dict[str, int]) -> list[dict[str, Any]]:
    """Routing's agents with the open items assigned to each against their task capacity;
    people holding work who are no routing agent are listed too (presence unknown)."""
    out = []
    for agent in routing_of(ops).agents():
        capacity = int(agent["capacity"].get("task", 5)) or 1
        assigned = load.get(agent["id"], 0)
        out.append(
            {
                "id": agent["id"],
                "name": agent["display_name"] or agent["id"],
                "presence": agent["presence"],
                "departments": agent["departments"],
                "assigned": assigned,
                "capacity": capacity,
                "share": min(1.0, assigned / capacity),
            }
        )
    known = {a["id"] for a in out}
    for username, assigned in load.items():
        if username not in known:
            out.append(
                {
                    "id": username,
                    "name": username,
                    "presence": "unknown",
                    "departments": [],
                    "assigned": assigned,
                    "capacity": None,
                    "share": 0.0,
                }
            )
    return sorted(out, key=lambda a: (a["departments"][:1], a["id"]))


# -- drill-down ------------------------------------------------------------------------------
def work_list(
    caller: Caller,
    ops: Ops,
    *,
    department: str | None = None,
    state: str | None = None,
    agent: str | None = None,
    process_key: str | None = None,
    horizon: timedelta = RISK_HORIZON,
    limit: int = LIST_LIMIT,
) -> list[dict[str, Any]]:
    """The open work behind a wallboard count, most urgent first (priority, then due): each
    item with its customer, business key and due time."""
    require(caller, Permission.SUPERVISE)
    if state and state not in STATES:
        raise FormInvalid(
            [{"field": "state", "message": f"state is one of {', '.join(STATES)}, not {state!r}"}]
        )
    now = ops.clock.now()
    rows = [
        row
        for row in _open_rows(ops)
        if (not department or department in _departments_of(row))
        and (not state or state in _states(row, now, horizon))
        and (not agent or row["assignee"] == agent)
        and (not process_key or row["process_key"] == process_key)
    ]
    far = now + timedelta(days=36500)
    rows.sort(key=lambda r: (-(r["priority"] or 0), r["due"] or far, r["created_at"]))
    rows = rows[:limit]
    keys = desk.business_keys(ops.store, sorted({r["instance_id"] for r in rows}))
    customers: dict[str, str | None] = {}
    for row in rows:
        row["business_key"] = keys.get(row["instance_id"])
        if row["instance_id"] not in customers:
            customers[row["instance_id"]] = _customer(ops, row["instance_id"])
        row["customer"] = customers[row["instance_id"]]
        row["states"] = sorted(_states(row, now, horizon))
    return rows


def triage_list(caller: Caller, ops: Ops, *, department: str | None = None) -> list[triage.Waiting]:
    """The contacts waiting for triage behind the wallboard's count (they wait in the triage
    department's queue), oldest deadline first."""
    require(caller, Permission.SUPERVISE)
    if department and department != triage.SETTINGS.department:
        return []
    return triage.waiting(caller, ops, limit=LIST_LIMIT)


def _customer(ops: Ops, instance_id: str) -> str | None:
    """The customer as the case names them: their name, else their id."""
    try:
        variables = ops.runtime.instance(instance_id).vars
    except FlowdeskError:
        return None
    name = variables.get("customerName")
    return str(name) if name not in (None, "") else customer_id_of(variables)


# -- actions ---------------------------------------------------------------------------------
def _open_item(ops: Ops, item_id: str) -> dict[str, Any]:
    row = desk.work_item(ops.store, item_id)
    if row is None:
        raise NotFoundError(f"no work item {item_id!r}")
    if row["status"] != "open":
        raise ConflictError(f"work item {item_id} is already {row['status']}")
    return row


def _required_skills(ops: Ops, item: dict[str, Any]) -> dict[str, int]:
    bundle = bundle_for_definition(ops.store, item["definition_id"])
    task = bundle.tasks.get(item["element_id"]) if bundle else None
    return dict(task.skills) if task else {}


def reassign(caller: Caller, ops: Ops, item_id: str, user: str) -> dict[str, Any]:
    """Give an open item to an agent, claimed or not. Refused, in words on the field `user`,
    for someone unknown, not set up in routing, offline, or without the skills the step
    needs (the bundle's skills with their least level)."""
    require(caller, Permission.SUPERVISE)
    item = _open_item(ops, item_id)
    user = user.strip()

    def refuse(message: str) -> FormInvalid:
        return FormInvalid([{"field": "user", "message": message}])

    if not user:
        raise refuse("Say whom to give the work to.")
    try:
        auth.get_user(ops.store, user)
        agent = routing_of(ops).agent(user)
    except NotFoundError as exc:
        raise refuse(f"{user} cannot take work: {exc.message}.") from exc
    if agent["presence"] == Presence.OFFLINE.value:
        raise refuse(f"{user} is offline: set them available first, or choose someone else.")
    missing = [
        f"{skill} (needs level {level}, has {agent['skills'].get(skill, 0)})"
        for skill, level in sorted(_required_skills(ops, item).items())
        if agent["skills"].get(skill, 0) < level
    ]
    if missing:
        step = item["name"] or item["element_id"]
        raise refuse(f"{user} lacks the skill {', '.join(missing)} that {step} needs.")
    if item["assignee"] != user:
        ops.runtime.delegate(item_id, user, actor=caller.username)
    row = desk.work_item(ops.store, item_id)
    assert row is not None
    return routed(ops, [row])[0]


def set_priority(caller: Caller, ops: Ops, item_id: str, priority: int | str) -> dict[str, Any]:
    """Make an open item more or less urgent: queues order by priority, highest first."""
    require(caller, Permission.SUPERVISE)
    item = _open_item(ops, item_id)
    text = str(priority).strip()
    if not text.lstrip("-").isdigit() or not PRIORITY_MIN <= int(text) <= PRIORITY_MAX:
        raise FormInvalid(
            [
                {
                    "field": "priority",
                    "message": f"Priority is a whole number from {PRIORITY_MIN} to "
                    f"{PRIORITY_MAX} (higher is more urgent).",
                }
            ]
        )
    ops.runtime.set_priority(item_id, int(text), actor=caller.username)
    # routing's offers rank by their own score: the change raises (or lowers) it as much
    change = int(text) - (item["priority"] if item["priority"] is not None else DEFAULT_PRIORITY)
    routing = routing_of(ops)
    routing.sync()
    if change:
        with suppress(NotFoundError, ConflictError):
            routing.adjust_boost(item_id, change, actor=caller.username)
    row = desk.work_item(ops.store, item_id)
    assert row is not None
    return routed(ops, [row])[0]


set_presence = organisation.set_presence  # the same use case from the wallboard
