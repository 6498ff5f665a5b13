"""Routing use cases of agents and supervisors: an agent's own profile and presence, the next
best work item, offers, transfers, SLA pauses, the queue and the routing round.

The REST routes under /api/v1/routing call these; the desktop's own actions (take next,
hand over) have theirs in `desktop` and `work`, and the supervisor's in `supervision`.
"""

from __future__ import annotations

from typing import Any

from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.organisation import routing_of
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Forbidden
from flowdesk.core.errors import NotFoundError
from flowdesk.routing import Presence
from flowdesk.routing.service import RoutingService

__all__ = [
    "Presence",
    "accept_offer",
    "decline_offer",
    "my_agent",
    "my_offers",
    "overview",
    "pause_sla",
    "peek_next",
    "queue",
    "resume_sla",
    "set_my_presence",
    "take_next",
    "tick",
    "transfer",
]

QUEUE_LIMIT = 1000


def _me(service: RoutingService, caller: Caller) -> dict[str, Any]:
    """The caller as an agent; registered on first use with their groups as departments."""
    try:
        return service.agent(caller.username)
    except NotFoundError:
        return service.upsert_agent(
            caller.username, departments=caller.groups, display_name=caller.display_name
        )


def my_agent(caller: Caller, ops: Ops) -> dict[str, Any]:
    """The caller's routing profile, presence and current load."""
    require(caller, Permission.WORK_READ)
    return _me(routing_of(ops), caller)


def set_my_presence(caller: Caller, ops: Ops, presence: Presence | str) -> dict[str, Any]:
    """available (receives work), busy (keeps working, nothing new), away, offline."""
    require(caller, Permission.WORK_ACT)
    service = routing_of(ops)
    _me(service, caller)
    return service.set_presence(caller.username, presence)


def peek_next(caller: Caller, ops: Ops) -> dict[str, Any] | None:
    """The caller's next best work item (None when there is none), without taking it."""
    require(caller, Permission.WORK_READ)
    service = routing_of(ops)
    _me(service, caller)
    return service.next_for(caller.username)


def take_next(caller: Caller, ops: Ops) -> dict[str, Any] | None:
    """Pull: assign the caller's next best work item to them (None when there is none)."""
    require(caller, Permission.WORK_ACT)
    service = routing_of(ops)
    _me(service, caller)
    return service.pull(caller.username)


def my_offers(caller: Caller, ops: Ops) -> list[dict[str, Any]]:
    """Work offered to the caller and waiting for accept or decline."""
    require(caller, Permission.WORK_READ)
    return routing_of(ops).offers_for(caller.username)


def accept_offer(caller: Caller, ops: Ops, offer_id: str) -> dict[str, Any]:
    require(caller, Permission.WORK_ACT)
    return routing_of(ops).accept(offer_id, caller.username)


def decline_offer(caller: Caller, ops: Ops, offer_id: str, reason: str | None) -> dict[str, Any]:
    """The work goes back to the queue and is offered to someone else."""
    require(caller, Permission.WORK_ACT)
    return routing_of(ops).decline(offer_id, caller.username, reason)


def _own_or_supervisor(service: RoutingService, item_id: str, caller: Caller) -> None:
    require(caller, Permission.WORK_ACT)
    entry = service.entry(item_id)
    if entry["agent"] != caller.username and not caller.can(Permission.SUPERVISE):
        raise Forbidden(
            f"work item {item_id} is not yours",
            hint="only its agent or a supervisor may do this",
        )


def transfer(
    caller: Caller,
    ops: Ops,
    item_id: str,
    *,
    department: str | None,
    reason: str,
    skills: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Move work to another queue or department; the reason is kept in the event log."""
    service = routing_of(ops)
    _own_or_supervisor(service, item_id, caller)
    return service.transfer(
        item_id, department=department, reason=reason, skills=skills, actor=caller.username
    )


def pause_sla(caller: Caller, ops: Ops, item_id: str) -> dict[str, Any]:
    """Waiting on the customer: the SLA clocks stop until resumed."""
    service = routing_of(ops)
    _own_or_supervisor(service, item_id, caller)
    return service.pause_sla(item_id, actor=caller.username)


def resume_sla(caller: Caller, ops: Ops, item_id: str) -> dict[str, Any]:
    service = routing_of(ops)
    _own_or_supervisor(service, item_id, caller)
    return service.resume_sla(item_id, actor=caller.username)


def queue(
    caller: Caller, ops: Ops, *, department: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Queued work, most urgent first (at most 1,000 rows)."""
    require(caller, Permission.SUPERVISE)
    return routing_of(ops).queue(department=department, limit=max(1, min(limit, QUEUE_LIMIT)))


def overview(caller: Caller, ops: Ops) -> dict[str, Any]:
    """Queue sizes and waiting times per department and channel, SLAs at risk, agents' load."""
    require(caller, Permission.SUPERVISE)
    return routing_of(ops).supervisor()


def tick(caller: Caller, ops: Ops) -> dict[str, int]:
    """One routing round now (a worker normally runs one every few seconds)."""
    require(caller, Permission.SUPERVISE)
    return routing_of(ops).tick()
