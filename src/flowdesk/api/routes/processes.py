"""Process instances: start (idempotent), query, state and variables, history, cancel,
variables, incident retry."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from flowdesk.api.idempotency import body_fingerprint, idempotent
from flowdesk.api.routes.common import (
    VariableName,
    errors,
    feel_variables,
    ops_of,
    plain,
    runtime_of,
)
from flowdesk.api.security import require
from flowdesk.app import processes
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal

router = APIRouter(prefix="/api/v1", tags=["process instances"])


class StartIn(BaseModel):
    model_config = ConfigDict(
        populate_by_name=True,
        extra="forbid",
        # the key is required (the validator below also takes the process_key spelling)
        json_schema_extra={"required": ["processKey"]},
    )

    process_key: str = Field(
        default="", alias="processKey", min_length=1, max_length=200, examples=["refund"]
    )
    variables: dict[VariableName, Any] = Field(default_factory=dict)
    business_key: str | None = Field(default=None, alias="businessKey", max_length=200)

    @model_validator(mode="after")
    def _key_given(self) -> StartIn:
        if not self.process_key:
            raise ValueError("processKey (or process_key) is required")
        return self


class IncidentOut(BaseModel):
    id: str
    element_id: str
    message: str
    job_id: str | None = None


class WorkItemRef(BaseModel):
    id: str
    element_id: str
    name: str | None = None
    assignee: str | None = None
    candidate_groups: list[str] = []
    form_key: str | None = None


class InstanceOut(BaseModel):
    id: str
    process_key: str
    definition_id: str
    business_key: str | None
    status: str
    variables: dict[str, Any]
    active_elements: list[str]
    work_items: list[WorkItemRef]
    incidents: list[IncidentOut]


class InstanceSummary(BaseModel):
    id: str
    process_key: str
    definition_id: str
    business_key: str | None
    status: str
    started_at: datetime
    ended_at: datetime | None = None
    parent_id: str | None = None


class HistoryEntry(BaseModel):
    seq: int
    id: str
    type: str
    time: datetime
    element_id: str | None = None
    actor: str | None = None
    department: str | None = None
    data: dict[str, Any]


class VariablesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variables: dict[VariableName, Any] = Field(min_length=1)


class RetryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    retries: int | None = Field(default=None, ge=1, le=100)


def instance_out(
    request: Request, state: processes.InstanceState, *, fresh: bool = False
) -> InstanceOut:
    """The instance as the API shows it. `fresh`: the state was just made by a start, so its
    open work items are exactly the rows that command wrote, and they are taken from the state
    rather than read back (a query per start); otherwise they are read, because claims and
    delegations change the rows and not the state."""
    definition_id = state.process  # the runtime starts instances by definition id
    if state.status != "active":
        items: list[dict[str, Any]] = []
    elif fresh:
        items = _new_work_items(state)
    else:
        items = runtime_of(request).work_items(instance_id=state.id)
    return InstanceOut(
        id=state.id,
        process_key=definition_id.rsplit(":", 1)[0],
        definition_id=definition_id,
        business_key=state.business_key,
        status=state.status,
        variables=plain(state.vars),
        active_elements=sorted({t.el for t in state.tokens.values()}),
        work_items=[WorkItemRef(**{k: w[k] for k in WorkItemRef.model_fields}) for w in items],
        incidents=[
            IncidentOut(id=i.id, element_id=i.el, message=i.message, job_id=i.job)
            for i in state.incidents.values()
        ],
    )


def _new_work_items(state: processes.InstanceState) -> list[dict[str, Any]]:
    """The work items of a state just started, in the queue's order (highest priority first,
    then oldest, then id: all were created at the same moment)."""
    items = sorted(
        state.work.values(),
        key=lambda w: (w.priority is None, -(w.priority or 0), w.id),
    )
    return [
        {
            "id": w.id,
            "element_id": w.el,
            "name": w.name,
            "assignee": w.assignee,
            "candidate_groups": list(w.candidate_groups),
            "form_key": w.form_key,
        }
        for w in items
    ]


@router.post(
    "/process-instances",
    response_model=InstanceOut,
    status_code=201,
    responses=errors(404, 409),
)
def start_instance(
    body: StartIn,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.PROCESS_START))],
) -> Response:
    """Start the newest version of a process. Send an `Idempotency-Key` header so that a retry
    after a timeout does not start a second instance."""
    variables = feel_variables(body.variables)
    assert body.process_key is not None
    key = body.process_key
    request_hash = body_fingerprint(body)
    ops = ops_of(request)

    def produce() -> tuple[int, Any]:
        state = processes.start(principal, ops, key, variables, business_key=body.business_key)
        return 201, instance_out(request, state, fresh=True).model_dump(mode="json")

    return idempotent(request, principal, request_hash, produce)


@router.get("/process-instances", response_model=list[InstanceSummary], responses=errors())
def list_instances(
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.PROCESS_READ))],
    process_key: Annotated[str | None, Query(max_length=200)] = None,
    business_key: Annotated[str | None, Query(max_length=200)] = None,
    status: Literal["active", "completed", "cancelled"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[InstanceSummary]:
    """Instances the caller may read (agents: those their groups have or had work on), newest
    first."""
    rows = processes.list_instances(
        principal,
        ops_of(request),
        process_key=process_key,
        business_key=business_key,
        status=status,
        limit=limit,
        offset=offset,
    )
    return [InstanceSummary(**{k: r[k] for k in InstanceSummary.model_fields}) for r in rows]


@router.get("/process-instances/{instance_id}", response_model=InstanceOut, responses=errors(404))
def get_instance(
    instance_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.PROCESS_READ))],
) -> InstanceOut:
    """State, variables, open work items and incidents (agents: of instances their groups have
    or had work on)."""
    return instance_out(request, processes.get_instance(principal, ops_of(request), instance_id))


@router.get(
    "/process-instances/{instance_id}/history",
    response_model=list[HistoryEntry],
    responses=errors(404),
)
def instance_history(
    instance_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.PROCESS_READ))],
) -> list[HistoryEntry]:
    """What happened to the instance, from the event log, oldest first."""
    return [
        HistoryEntry(
            seq=e.seq,
            id=e.id,
            type=e.type,
            time=e.time,
            element_id=e.element_id,
            actor=e.actor,
            department=e.department,
            data=plain(e.data),
        )
        for e in processes.history(principal, ops_of(request), instance_id)
    ]


@router.delete(
    "/process-instances/{instance_id}", response_model=InstanceOut, responses=errors(404, 409)
)
def cancel_instance(
    instance_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.PROCESS_ADMIN))],
    reason: Annotated[str | None, Query(max_length=500)] = None,
) -> InstanceOut:
    state = processes.cancel(principal, ops_of(request), instance_id, reason)
    return instance_out(request, state)


@router.patch(
    "/process-instances/{instance_id}/variables",
    response_model=InstanceOut,
    responses=errors(404, 409),
)
def set_variables(
    instance_id: str,
    body: VariablesIn,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.PROCESS_ADMIN))],
) -> InstanceOut:
    """Set (or overwrite) process variables of an active instance."""
    state = processes.set_variables(
        principal, ops_of(request), instance_id, feel_variables(body.variables)
    )
    return instance_out(request, state)


@router.post(
    "/process-instances/{instance_id}/incidents/{incident_id}/retry",
    response_model=InstanceOut,
    responses=errors(404, 409),
)
def retry_incident(
    instance_id: str,
    incident_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.PROCESS_ADMIN))],
    body: RetryIn | None = None,
) -> InstanceOut:
    """Resolve an incident: its job runs again (with `retries` attempts, for external tasks)."""
    state = processes.retry_incident(
        principal, ops_of(request), instance_id, incident_id, body.retries if body else None
    )
    return instance_out(request, state)
