"""Work items (user tasks): the queue, claim, unclaim, delegate, complete.

Agents see and act on the items of their groups (candidate groups or lane), their own and those
offered to them by name; supervisors, administrators and integrations (work:read-all) see all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from flowdesk.api.routes.common import (
    InvalidInput,
    errors,
    feel_variables,
    plain,
    runtime_of,
    store_of,
)
from flowdesk.api.security import require
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Forbidden, Principal
from flowdesk.core.errors import ConflictError, NotFoundError
from flowdesk.store.processes import ProcessRepository

router = APIRouter(prefix="/api/v1", tags=["work items"])


class WorkItemOut(BaseModel):
    id: str
    instance_id: str
    process_key: str
    definition_id: str
    element_id: str
    name: str | None = None
    lane: str | None = None
    assignee: str | None = None
    candidate_groups: list[str] = []
    candidate_users: list[str] = []
    form_key: str | None = None
    due_at: datetime | None = None
    priority: int | None = None
    status: str
    created_at: datetime
    closed_at: datetime | None = None
    closed_by: str | None = None


class WorkItemDetail(WorkItemOut):
    business_key: str | None = None
    variables: dict[str, Any] = Field(
        default_factory=dict, description="The instance's variables, to fill the form"
    )


class DelegateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1, max_length=100)


class CompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variables: dict[str, Any] = Field(default_factory=dict)


class CompleteOut(BaseModel):
    instance_id: str
    instance_status: str
    next_work_items: list[WorkItemOut]


def _sees_all(principal: Principal) -> bool:
    return principal.can(Permission.WORK_READ_ALL)


def visible(principal: Principal, row: dict[str, Any]) -> bool:
    if _sees_all(principal):
        return True
    groups = set(principal.groups)
    return bool(
        row["assignee"] == principal.username
        or principal.username in (row["candidate_users"] or [])
        or groups.intersection(row["candidate_groups"] or [])
        or (row["lane"] is not None and row["lane"] in groups)
    )


def _item(request: Request, principal: Principal, item_id: str) -> dict[str, Any]:
    with store_of(request).reading() as conn:
        row = ProcessRepository(conn).work_item(item_id)
    if row is None:
        raise NotFoundError(f"no work item {item_id!r}")
    if not visible(principal, row):
        raise Forbidden(
            f"work item {item_id} is not offered to {principal.username} or their groups",
            hint="a supervisor can delegate it to you",
        )
    return row


def _check_holder(principal: Principal, row: dict[str, Any], action: str) -> None:
    """Only the assignee (or a supervisor) may give away an item someone has claimed."""
    if row["assignee"] not in (None, principal.username) and not principal.can(
        Permission.SUPERVISE
    ):
        raise ConflictError(
            f"work item {row['id']} is claimed by {row['assignee']}",
            hint=f"only they or a supervisor can {action} it",
        )


def _out(row: dict[str, Any]) -> WorkItemOut:
    return WorkItemOut(**{k: row[k] for k in WorkItemOut.model_fields})


@router.get("/work-items", response_model=list[WorkItemOut], responses=errors())
def list_work_items(
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.WORK_READ))],
    assignee: Annotated[str | None, Query(max_length=100)] = None,
    candidate_group: Annotated[str | None, Query(max_length=100)] = None,
    process_key: Annotated[str | None, Query(max_length=200)] = None,
    due_before: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[WorkItemOut]:
    """Open work items, highest priority first, then oldest."""
    if due_before is not None and due_before.tzinfo is None:
        from datetime import UTC

        due_before = due_before.replace(tzinfo=UTC)
    filters: dict[str, Any] = {
        "assignee": assignee,
        "candidate_group": candidate_group,
        "process_key": process_key,
        "due_before": due_before,
        "limit": limit,
        "offset": offset,
    }
    if not _sees_all(principal):
        filters.update(groups_visible=list(principal.groups), user=principal.username)
    return [_out(r) for r in runtime_of(request).work_items(**filters)]


@router.get("/work-items/{item_id}", response_model=WorkItemDetail, responses=errors(404))
def get_work_item(
    item_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.WORK_READ))],
) -> WorkItemDetail:
    """One work item with its form key and the variables of its instance."""
    row = _item(request, principal, item_id)
    detail = WorkItemDetail(**_out(row).model_dump())
    if row["status"] == "open":
        state = runtime_of(request).instance(row["instance_id"])
        detail.variables = plain(state.vars)
        detail.business_key = state.business_key
    return detail


@router.post("/work-items/{item_id}/claim", response_model=WorkItemOut, responses=errors(404, 409))
def claim(
    item_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.WORK_ACT))],
) -> WorkItemOut:
    _item(request, principal, item_id)
    runtime_of(request).claim(item_id, principal.username)
    return _out(_item(request, principal, item_id))


@router.post(
    "/work-items/{item_id}/unclaim", response_model=WorkItemOut, responses=errors(404, 409)
)
def unclaim(
    item_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.WORK_ACT))],
) -> WorkItemOut:
    """Give a claimed item back to the queue (the assignee, or a supervisor)."""
    _check_holder(principal, _item(request, principal, item_id), "unclaim")
    runtime_of(request).unclaim(item_id, principal.username)
    return _out(_item(request, principal, item_id))


@router.post(
    "/work-items/{item_id}/delegate", response_model=WorkItemOut, responses=errors(404, 409)
)
def delegate(
    item_id: str,
    body: DelegateIn,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.WORK_ACT))],
) -> WorkItemOut:
    """Hand the item to another user (the assignee, or a supervisor)."""
    _check_holder(principal, _item(request, principal, item_id), "delegate")
    runtime_of(request).delegate(item_id, body.user, actor=principal.username)
    with store_of(request).reading() as conn:
        updated = ProcessRepository(conn).work_item(item_id)
    assert updated is not None
    return _out(updated)


@router.post(
    "/work-items/{item_id}/complete", response_model=CompleteOut, responses=errors(404, 409)
)
def complete(
    item_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.WORK_ACT))],
    body: CompleteIn | None = None,
) -> CompleteOut:
    """Complete the item with the variables of its form; 409 when someone else claimed it."""
    if _sees_all(principal):
        # Every item is visible to them and the command itself answers 404 for an unknown item,
        # so the visibility read is skipped (a query per completion). A bad variable still
        # answers after the 404 of an unknown item, as it does for everyone else.
        try:
            variables = feel_variables(body.variables if body else None)
        except InvalidInput:
            _item(request, principal, item_id)
            raise
    else:
        _item(request, principal, item_id)
        variables = feel_variables(body.variables if body else None)
    runtime = runtime_of(request)
    state = runtime.complete_work_item(item_id, variables, actor=principal.username)
    following = runtime.work_items(instance_id=state.id) if state.status == "active" else []
    return CompleteOut(
        instance_id=state.id,
        instance_status=state.status,
        next_work_items=[_out(r) for r in following],
    )
