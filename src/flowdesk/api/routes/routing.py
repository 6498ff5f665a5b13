"""Routing for agents and supervisors: presence, next best work item, offers, transfers,
SLA pauses, and the supervisor's view of queues, waiting times, SLAs at risk and load.

Each route calls its use case in `flowdesk.app.routing` (or `organisation`, `supervision`),
which owns permission and validation; the routing service itself comes from `ops_of`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from flowdesk.api.routes.common import ops_of
from flowdesk.api.security import require
from flowdesk.app import organisation, supervision
from flowdesk.app import routing as routing_work
from flowdesk.app.context import Ops
from flowdesk.app.routing import Presence
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal

router = APIRouter(prefix="/api/v1", tags=["routing"])


AppOps = Annotated[Ops, Depends(ops_of)]


class AgentIn(BaseModel):
    display_name: str | None = Field(default=None, max_length=200)
    skills: dict[str, Annotated[int, Field(ge=1, le=5)]] = Field(
        default_factory=dict, examples=[{"billing": 3, "dutch": 5}]
    )
    languages: list[str] = Field(default_factory=list, examples=[["nl", "en"]])
    departments: list[str] = Field(default_factory=list, examples=[["support"]])
    capacity: dict[str, int] | None = Field(
        default=None,
        description="Concurrent work per channel, shared: 3 chats OR 1 call OR 5 emails",
        examples=[{"chat": 3, "call": 1, "email": 5, "task": 5}],
    )


class AgentOut(BaseModel):
    id: str
    display_name: str | None
    presence: Presence
    presence_since: datetime
    skills: dict[str, int]
    languages: list[str]
    departments: list[str]
    capacity: dict[str, int]
    load: dict[str, int]
    utilisation: float
    offers: int
    shift: str | None = Field(default=None, description="From the company file: early 07:00-15:30")


class PresenceIn(BaseModel):
    presence: Presence


class SlaOut(BaseModel):
    kind: str
    status: str
    deadline: datetime | None
    remaining_seconds: float


class EntryOut(BaseModel):
    id: str
    source: str
    name: str | None
    channel: str
    department: str | None
    status: str
    agent: str | None
    offer_id: str | None
    offer_expires_at: datetime | None
    priority: float
    due_at: datetime | None
    waiting_seconds: float
    instance_id: str | None
    process_key: str | None
    business_key: str | None
    element_id: str | None
    sla: list[SlaOut]


class OfferOut(BaseModel):
    offer_id: str
    work_item_id: str
    agent: str
    expires_at: datetime


class DeclineIn(BaseModel):
    reason: str | None = Field(default=None, max_length=500)


class TransferIn(BaseModel):
    department: str | None = Field(max_length=200, description="Target queue / department")
    reason: str = Field(min_length=1, max_length=500)
    skills: dict[str, int] | None = Field(default=None, description="Replace required skills")


class QueueOut(BaseModel):
    department: str | None
    channel: str
    size: int
    oldest_wait_seconds: float
    average_wait_seconds: float


class RiskOut(BaseModel):
    work_item_id: str
    department: str | None
    agent: str | None
    status: str
    kind: str
    sla_status: str
    deadline: datetime | None
    remaining_seconds: float
    why: str


class TriageOut(BaseModel):
    """Contacts of a department waiting for triage (a person to decide their reason)."""

    department: str
    waiting: int
    unassigned: int
    overdue: int
    oldest: datetime | None


class SupervisorOut(BaseModel):
    at: datetime
    queued: int
    queues: list[QueueOut]
    slas_at_risk: list[RiskOut]
    agents: list[AgentOut]
    triage: list[TriageOut] = []


class TickOut(BaseModel):
    synced: int
    expired: int
    escalated: int
    offered: int


# -- agents ---------------------------------------------------------------------------------
@router.get("/routing/agents/me", response_model=AgentOut)
def my_agent(
    ops: AppOps, principal: Annotated[Principal, Depends(require(Permission.WORK_READ))]
) -> dict[str, Any]:
    """The caller's routing profile, presence and current load."""
    return routing_work.my_agent(principal, ops)


@router.put("/routing/agents/me/presence", response_model=AgentOut)
def set_my_presence(
    body: PresenceIn,
    ops: AppOps,
    principal: Annotated[Principal, Depends(require(Permission.WORK_ACT))],
) -> dict[str, Any]:
    """available (receives work), busy (keeps working, nothing new), away, offline."""
    return routing_work.set_my_presence(principal, ops, body.presence)


@router.get("/routing/agents", response_model=list[AgentOut])
def list_agents(
    ops: AppOps, caller: Annotated[Principal, Depends(require(Permission.SUPERVISE))]
) -> list[dict[str, Any]]:
    return organisation.list_agents(caller, ops)


@router.get("/routing/agents/{agent_id}", response_model=AgentOut)
def get_agent(
    agent_id: str,
    ops: AppOps,
    caller: Annotated[Principal, Depends(require(Permission.SUPERVISE))],
) -> dict[str, Any]:
    return organisation.get_agent(caller, ops, agent_id)


@router.put("/routing/agents/{agent_id}", response_model=AgentOut)
def configure_agent(
    agent_id: str,
    body: AgentIn,
    ops: AppOps,
    caller: Annotated[Principal, Depends(require(Permission.WORK_READ))],
) -> dict[str, Any]:
    """Skills with levels, languages, departments and capacity per channel."""
    return organisation.put_agent(
        caller,
        ops,
        agent_id,
        skills=body.skills,
        languages=body.languages,
        departments=body.departments,
        capacity=body.capacity,
        display_name=body.display_name,
    )


class DepartmentOut(BaseModel):
    id: str
    name: str
    channels: list[str]
    lanes: list[str]
    ola_pickup_minutes: float | None
    ola_resolve_minutes: float | None
    escalations: int
    agents: list[str]


@router.get("/routing/departments", response_model=list[DepartmentOut])
def departments(
    ops: AppOps, caller: Annotated[Principal, Depends(require(Permission.SUPERVISE))]
) -> list[dict[str, Any]]:
    """The company file's departments, the lanes that map to them and their agents."""
    return organisation.list_departments(caller, ops)


@router.get("/routing/lanes", response_model=dict[str, str])
def lanes(
    ops: AppOps,
    caller: Annotated[Principal, Depends(require(Permission.SUPERVISE))],
    lane: Annotated[list[str] | None, Query(description="Lanes to map by the rule")] = None,
) -> dict[str, str]:
    """BPMN lane -> department id (explicit map, department names, and the asked lanes)."""
    return organisation.lane_map(caller, ops, lane or ())


@router.put("/routing/agents/{agent_id}/presence", response_model=AgentOut)
def set_presence(
    agent_id: str,
    body: PresenceIn,
    ops: AppOps,
    caller: Annotated[Principal, Depends(require(Permission.SUPERVISE))],
) -> dict[str, Any]:
    """A supervisor sets an agent's presence (the event names the supervisor)."""
    supervision.set_presence(caller, ops, agent_id, body.presence.value)
    return organisation.get_agent(caller, ops, agent_id)


# -- work -----------------------------------------------------------------------------------
@router.get("/routing/next", response_model=EntryOut | None)
def peek_next(
    ops: AppOps, principal: Annotated[Principal, Depends(require(Permission.WORK_READ))]
) -> dict[str, Any] | None:
    """The caller's next best work item (null when there is none), without taking it."""
    return routing_work.peek_next(principal, ops)


@router.post("/routing/next", response_model=EntryOut | None)
def take_next(
    ops: AppOps, principal: Annotated[Principal, Depends(require(Permission.WORK_ACT))]
) -> dict[str, Any] | None:
    """Pull: assign the caller's next best work item to them (null when there is none)."""
    return routing_work.take_next(principal, ops)


@router.get("/routing/offers", response_model=list[EntryOut])
def my_offers(
    ops: AppOps, principal: Annotated[Principal, Depends(require(Permission.WORK_READ))]
) -> list[dict[str, Any]]:
    """Work offered to the caller and waiting for accept or decline."""
    return routing_work.my_offers(principal, ops)


@router.post("/routing/offers/{offer_id}/accept", response_model=EntryOut)
def accept_offer(
    offer_id: str,
    ops: AppOps,
    principal: Annotated[Principal, Depends(require(Permission.WORK_ACT))],
) -> dict[str, Any]:
    return routing_work.accept_offer(principal, ops, offer_id)


@router.post("/routing/offers/{offer_id}/decline", response_model=EntryOut)
def decline_offer(
    offer_id: str,
    body: DeclineIn,
    ops: AppOps,
    principal: Annotated[Principal, Depends(require(Permission.WORK_ACT))],
) -> dict[str, Any]:
    """The work goes back to the queue and is offered to someone else."""
    return routing_work.decline_offer(principal, ops, offer_id, body.reason)


@router.post("/routing/items/{item_id}/transfer", response_model=EntryOut)
def transfer(
    item_id: str,
    body: TransferIn,
    ops: AppOps,
    principal: Annotated[Principal, Depends(require(Permission.WORK_ACT))],
) -> dict[str, Any]:
    """Move work to another queue or department; the reason is kept in the event log."""
    return routing_work.transfer(
        principal, ops, item_id, department=body.department, reason=body.reason, skills=body.skills
    )


@router.post("/routing/items/{item_id}/sla/pause", response_model=EntryOut)
def pause_sla(
    item_id: str,
    ops: AppOps,
    principal: Annotated[Principal, Depends(require(Permission.WORK_ACT))],
) -> dict[str, Any]:
    """Waiting on the customer: the SLA clocks stop until resumed."""
    return routing_work.pause_sla(principal, ops, item_id)


@router.post("/routing/items/{item_id}/sla/resume", response_model=EntryOut)
def resume_sla(
    item_id: str,
    ops: AppOps,
    principal: Annotated[Principal, Depends(require(Permission.WORK_ACT))],
) -> dict[str, Any]:
    return routing_work.resume_sla(principal, ops, item_id)


# -- supervisors ----------------------------------------------------------------------------
@router.get("/routing/queue", response_model=list[EntryOut])
def queue(
    ops: AppOps,
    caller: Annotated[Principal, Depends(require(Permission.SUPERVISE))],
    department: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Queued work, most urgent first."""
    return routing_work.queue(caller, ops, department=department, limit=limit)


@router.get("/routing/supervisor", response_model=SupervisorOut)
def supervisor(
    ops: AppOps, caller: Annotated[Principal, Depends(require(Permission.SUPERVISE))]
) -> dict[str, Any]:
    """Queue sizes and waiting times per department and channel, SLAs at risk, agents' load."""
    return routing_work.overview(caller, ops)


@router.post("/routing/tick", response_model=TickOut)
def tick(
    ops: AppOps, caller: Annotated[Principal, Depends(require(Permission.SUPERVISE))]
) -> dict[str, int]:
    """Run one routing round now: pull new work from flows, expire offers, escalate SLAs,
    offer work to ready agents (a worker normally does this every few seconds)."""
    return routing_work.tick(caller, ops)


class WallboardDepartmentOut(BaseModel):
    name: str
    open: int = Field(description="Open work items and contacts waiting for triage")
    unassigned: int
    assigned: int
    at_risk: int = Field(validation_alias="at-risk", description="Due within the risk horizon")
    breached: int = Field(description="Past due")
    triage: int = Field(description="Contacts waiting for triage")
    oldest: datetime | None = Field(description="Arrival of the unassigned work waiting longest")


class WallboardAgentOut(BaseModel):
    id: str
    name: str
    presence: str
    departments: list[str]
    assigned: int
    capacity: int | None


class WallboardOut(BaseModel):
    now: datetime
    total: int
    departments: list[WallboardDepartmentOut]
    agents: list[WallboardAgentOut]


class WallboardItemOut(BaseModel):
    id: str
    instance_id: str
    process_key: str
    element_id: str
    name: str | None
    candidate_groups: list[str]
    assignee: str | None
    priority: int | None
    due: datetime | None
    business_key: str | None
    customer: str | None
    states: list[str]


@router.get("/routing/wallboard", response_model=WallboardOut, response_model_by_alias=False)
def wallboard(
    ops: AppOps, caller: Annotated[Principal, Depends(require(Permission.SUPERVISE))]
) -> dict[str, Any]:
    """The supervisor's wallboard figures, as the /supervisor page shows them."""
    return supervision.supervisor_figures(caller, ops)


@router.get("/routing/wallboard/work", response_model=list[WallboardItemOut])
def wallboard_work(
    ops: AppOps,
    caller: Annotated[Principal, Depends(require(Permission.SUPERVISE))],
    department: Annotated[str | None, Query(max_length=200)] = None,
    state: Annotated[
        Literal["unassigned", "assigned", "at-risk", "breached"] | None,
        Query(description="unassigned, assigned, at-risk or breached"),
    ] = None,
    agent: Annotated[str | None, Query(max_length=100)] = None,
    flow: Annotated[str | None, Query(max_length=200)] = None,
) -> list[dict[str, Any]]:
    """The open work behind a wallboard count, most urgent first."""
    return supervision.work_list(
        caller, ops, department=department, state=state, agent=agent, process_key=flow
    )
