"""Work items (user tasks): the queue, next best, claim, unclaim, delegate, transfer, notes,
replies, complete. The rules are the application layer's (`flowdesk.app.work`), shared with
the desktop.

Agents see and act on the items of their groups (candidate groups or lane), their own and those
offered to them by name; supervisors, administrators and integrations (work:read-all) see all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from flowdesk.api.routes.common import (
    InvalidInput,
    IsoDateTime,
    VariableName,
    errors,
    feel_variables,
    ops_of,
    plain,
)
from flowdesk.api.security import require
from flowdesk.app import casework, desktop, macros, supervision, work
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal

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
    variables: dict[VariableName, Any] = Field(
        default_factory=dict, description="The instance's variables, to fill the form"
    )


class DelegateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1, max_length=100)


class PriorityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority: int = Field(description="0 to 100, higher is more urgent (Camunda's default: 50)")


class CompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variables: dict[VariableName, Any] = Field(default_factory=dict)


class CompleteOut(BaseModel):
    instance_id: str
    instance_status: str
    next_work_items: list[WorkItemOut]


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=work.NOTE_MAX)


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    department: str = Field(min_length=1, max_length=100)
    reason: str | None = Field(default=None, max_length=500)


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=20_000)
    contact_id: str | None = Field(
        default=None, max_length=64, description="The contact to answer (default: the latest)"
    )


class ReplyOut(BaseModel):
    status: str
    contact_id: str
    channel: str
    to: str
    send_at: datetime | None = None


class NextOut(BaseModel):
    kind: str = Field(description="work_item, contact (waiting for triage) or empty")
    work_item: WorkItemOut | None = None
    contact_id: str | None = None


def _out(row: dict[str, Any]) -> WorkItemOut:
    return WorkItemOut(**{k: row[k] for k in WorkItemOut.model_fields})


@router.get("/work-items", response_model=list[WorkItemOut], responses=errors())
def list_work_items(
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.WORK_READ))],
    assignee: Annotated[str | None, Query(max_length=100)] = None,
    candidate_group: Annotated[str | None, Query(max_length=100)] = None,
    process_key: Annotated[str | None, Query(max_length=200)] = None,
    due_before: IsoDateTime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[WorkItemOut]:
    """Open work items the caller may see, highest priority first, then oldest."""
    rows = work.list_work(
        principal,
        ops_of(request),
        assignee=assignee,
        candidate_group=candidate_group,
        process_key=process_key,
        due_before=due_before,
        limit=limit,
        offset=offset,
    )
    return [_out(r) for r in rows]


@router.post("/work-items/next", response_model=NextOut, responses=errors(409))
def next_best(
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.WORK_ACT))],
) -> NextOut:
    """Take the next best work: the contact waiting longest for a first answer when it is due
    first, else the best work item of the caller's queue, claimed for them (their own claimed
    work first). `kind` is `empty` when there is nothing to do."""
    taken = desktop.take_next(principal, ops_of(request))
    if taken.item is not None:
        return NextOut(kind="work_item", work_item=_out(taken.item))
    if taken.contact_id is not None:
        return NextOut(kind="contact", contact_id=taken.contact_id)
    return NextOut(kind="empty")


@router.get("/work-items/{item_id}", response_model=WorkItemDetail, responses=errors(404))
def get_work_item(
    item_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.WORK_READ))],
) -> WorkItemDetail:
    """One work item with its form key and the variables of its instance."""
    found = work.item_detail(principal, ops_of(request), item_id)
    detail = WorkItemDetail(**_out(found.item).model_dump())
    detail.variables = plain(found.variables)
    detail.business_key = found.business_key
    return detail


@router.post("/work-items/{item_id}/claim", response_model=WorkItemOut, responses=errors(404, 409))
def claim(
    item_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.WORK_ACT))],
) -> WorkItemOut:
    return _out(work.claim(principal, ops_of(request), item_id))


@router.post(
    "/work-items/{item_id}/unclaim", response_model=WorkItemOut, responses=errors(404, 409)
)
def unclaim(
    item_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.WORK_ACT))],
) -> WorkItemOut:
    """Give a claimed item back to the queue (the assignee, or a supervisor)."""
    return _out(work.unclaim(principal, ops_of(request), item_id))


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
    return _out(work.delegate(principal, ops_of(request), item_id, body.user))


@router.post("/work-items/{item_id}/transfer", status_code=204, responses=errors(404, 409))
def transfer(
    item_id: str,
    body: TransferIn,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.WORK_ACT))],
) -> Response:
    """Hand the item over to another department's queue through routing."""
    work.transfer(
        principal, ops_of(request), item_id, department=body.department, reason=body.reason
    )
    return Response(status_code=204)


@router.post("/work-items/{item_id}/notes", status_code=204, responses=errors(404))
def add_note(
    item_id: str,
    body: NoteIn,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.WORK_ACT))],
) -> Response:
    """An internal note on the item's case (never sent to the customer)."""
    work.add_note(principal, ops_of(request), item_id, body.text)
    return Response(status_code=204)


@router.post("/work-items/{item_id}/reply", response_model=ReplyOut, responses=errors(404, 503))
def reply(
    item_id: str,
    body: ReplyIn,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.WORK_ACT))],
) -> ReplyOut:
    """Answer the customer on the channel of one of the case's contacts (the latest that can
    be answered by default)."""
    sent = casework.reply(principal, ops_of(request), item_id, body.contact_id, body.text)
    return ReplyOut(
        status=sent.status,
        contact_id=sent.contact_id,
        channel=sent.channel,
        to=sent.to,
        send_at=sent.send_at,
    )


@router.post(
    "/work-items/{item_id}/complete", response_model=CompleteOut, responses=errors(404, 409)
)
def complete(
    item_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.WORK_ACT))],
    body: CompleteIn | None = None,
) -> CompleteOut:
    """Complete the item with the variables of its form; the step's form is checked (422 with
    one entry per field in `errors`); 409 when someone else claimed it."""
    ops = ops_of(request)
    try:
        variables = feel_variables(body.variables if body else None)
    except InvalidInput:
        work.get_item(principal, ops, item_id)  # an unknown or hidden item answers first
        raise
    state = work.complete(principal, ops, item_id, variables)
    return CompleteOut(
        instance_id=state.id,
        instance_status=state.status,
        next_work_items=[_out(r) for r in work.following_items(principal, ops, state)],
    )


class MessageOut(BaseModel):
    at: datetime
    direction: str = Field(description="in (from the customer), out (to them) or note")
    channel: str
    who: str
    text: str
    subject: str | None = None
    contact_id: str | None = None
    photo: bool = False
    status: str | None = None
    source: str | None = None


class MomentOut(BaseModel):
    at: datetime
    kind: str
    text: str
    who: str | None = None
    quote: str | None = None
    photo: str | None = None


class ConversationOut(BaseModel):
    messages: list[MessageOut]
    timeline: list[MomentOut]


@router.get(
    "/work-items/{item_id}/conversation", response_model=ConversationOut, responses=errors(404)
)
def conversation(
    item_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.WORK_READ))],
) -> ConversationOut:
    """The item's case as one thread, oldest first: every message in and out on every
    channel, what the customer added on the status page, and internal notes; with the case's
    business timeline (newest first, engine-internal events left out)."""
    ops = ops_of(request)
    messages = casework.conversation(principal, ops, item_id)
    moments = casework.timeline(principal, ops, item_id)
    return ConversationOut(
        messages=[MessageOut(**m.to_dict()) for m in messages],
        timeline=[MomentOut(**m.to_dict()) for m in moments],
    )


class MacroOut(BaseModel):
    id: str
    title: str
    text: str


@router.get("/macros", response_model=list[MacroOut], responses=errors())
def list_macros(
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.WORK_READ))],
) -> list[MacroOut]:
    """The company file's canned replies, placeholders unfilled."""
    return [
        MacroOut(id=m.id, title=m.title, text=m.text)
        for m in macros.list_macros(principal, ops_of(request))
    ]


@router.get(
    "/work-items/{item_id}/macros/{macro_id}", response_model=MacroOut, responses=errors(404)
)
def fill_macro(
    item_id: str,
    macro_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.WORK_ACT))],
) -> MacroOut:
    """A macro with its placeholders filled for this item's case, ready for the reply."""
    ops = ops_of(request)
    text = macros.fill(principal, ops, item_id, macro_id[:100])
    title = next(m.title for m in macros.list_macros(principal, ops) if m.id == macro_id)
    return MacroOut(id=macro_id, title=title, text=text)


# -- supervisors -----------------------------------------------------------------------------
@router.post(
    "/work-items/{item_id}/reassign", response_model=WorkItemOut, responses=errors(404, 409)
)
def reassign(
    item_id: str,
    body: DelegateIn,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.SUPERVISE))],
) -> WorkItemOut:
    """Give an open item to an agent (claimed or not). 422 on `user`, in words, for someone
    offline, not set up in routing, or lacking a skill the step needs."""
    return _out(supervision.reassign(principal, ops_of(request), item_id, body.user))


@router.post(
    "/work-items/{item_id}/priority", response_model=WorkItemOut, responses=errors(404, 409)
)
def set_priority(
    item_id: str,
    body: PriorityIn,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.SUPERVISE))],
) -> WorkItemOut:
    """Make an open item more or less urgent (queues order by priority, highest first)."""
    return _out(supervision.set_priority(principal, ops_of(request), item_id, body.priority))
