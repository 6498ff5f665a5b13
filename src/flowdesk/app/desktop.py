"""The agent's main action, next best work, for both doors.

Order: the agent's own claimed work first; then whichever is due first of the contact waiting
longest for a first answer and the best item routing has for the agent. For an agent that
routing knows (the company file's agents), routing decides: priority from SLA urgency, customer
value and risk, and only work whose required skills, languages and capacity the agent has;
pressing the button says "ready", so an offline agent becomes available. Anyone else (an
administrator without an agent profile) takes the best item of their groups' queue. A work item
is claimed for the agent on the way (someone else may take it first: then the next one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flowdesk.app import organisation, triage, work
from flowdesk.app.context import Caller, Ops, require
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Forbidden
from flowdesk.core.errors import ConflictError, NotFoundError
from flowdesk.routing.domain import Presence
from flowdesk.routing.service import RoutingService

ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Taken:
    """What the agent works on next: a work item (claimed for them), a contact to triage, or
    neither when there is nothing to do."""

    item: dict[str, Any] | None = None
    contact_id: str | None = None


def _first(due: datetime | None, other: datetime | None) -> bool:
    """Whether `due` comes before `other` (no due time comes last)."""
    return due is not None and (other is None or due <= other)


def _routing_agent(caller: Caller, ops: Ops) -> RoutingService | None:
    """The routing service when it knows the caller as an agent, made ready for work."""
    routing = organisation.routing_of(ops)
    try:
        agent = routing.agent(caller.username)
    except NotFoundError:
        return None
    if agent["presence"] == Presence.OFFLINE.value:
        routing.set_presence(caller.username, Presence.AVAILABLE)
    return routing


def take_next(caller: Caller, ops: Ops) -> Taken:
    require(caller, Permission.WORK_ACT)
    first = next(iter(triage.waiting(caller, ops, limit=1)), None)
    contact_due = first.due if first is not None else None
    own = work.best_item(caller, ops, mine_only=True)
    if own is not None and not _first(contact_due, own["due"]):
        return Taken(item=own)
    routing = _routing_agent(caller, ops)
    if routing is not None:
        return _from_routing(caller, ops, routing, first, own)
    for _ in range(ATTEMPTS):
        best = own or work.best_item(caller, ops)
        if first is not None and (best is None or _first(first.due, best["due"])):
            return Taken(contact_id=first.id)
        if best is None:
            return Taken()
        if best["assignee"] == caller.username:
            return Taken(item=best)
        try:
            ops.runtime.claim(best["id"], caller.username)
        except (ConflictError, NotFoundError):
            continue  # someone took it between the read and the claim
        return Taken(item={**best, "assignee": caller.username})
    raise ConflictError(
        "others took every item offered to you while you asked", hint="try again in a moment"
    )


def _from_routing(
    caller: Caller,
    ops: Ops,
    routing: RoutingService,
    first: triage.Waiting | None,
    own: dict[str, Any] | None,
) -> Taken:
    routing.sync()  # the queue follows the event log: make sure it has the newest work
    best = routing.next_for(caller.username)
    if first is not None and (best is None or _first(first.due, best["due_at"])):
        return Taken(contact_id=first.id)
    if best is None:
        return Taken(item=own) if own is not None else Taken()
    for _ in range(ATTEMPTS):
        taken = routing.pull(caller.username)
        if taken is None:
            break
        item_id = taken["id"]
        if taken["source"] == "contact":
            return Taken(contact_id=item_id)  # a contact routed to the agent for triage
        try:
            row = work.get_item(caller, ops, item_id)
        except (NotFoundError, Forbidden):
            continue
        if row["assignee"] is None:
            try:
                ops.runtime.claim(item_id, caller.username)
            except (ConflictError, NotFoundError):
                continue
        elif row["assignee"] != caller.username:
            continue  # claimed in its flow by someone else meanwhile
        return Taken(item=work.DueTimes(ops).fill([work.get_item(caller, ops, item_id)])[0])
    return Taken(item=own) if own is not None else Taken()
