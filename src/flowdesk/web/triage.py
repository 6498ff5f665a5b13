"""Contacts waiting for a first answer, on the desktop: intake could not tell why the customer
got in touch, so a front-office agent reads the contact and decides the reason; the flow then
starts (or the contact joins the customer's open case) and the agent goes straight to its
first step. These contacts sit in My work beside the flows' tasks, due by the first-response
target, and "Next best work item" takes them in deadline order like any other work."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from flowdesk.api.routes.common import ops_of
from flowdesk.app import triage as app_triage
from flowdesk.app.errors import FormInvalid
from flowdesk.app.triage import Waiting
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Forbidden, Principal
from flowdesk.core.errors import FlowdeskError, NotFoundError
from flowdesk.web import csrf
from flowdesk.web.access import PageAccess, page_access
from flowdesk.web.rendering import countdown, error_page, render

router = APIRouter(include_in_schema=False)
Triage = Annotated[PageAccess, Depends(page_access(Permission.CONTACTS_TRIAGE))]
SETTINGS = app_triage.SETTINGS
SHOWN = app_triage.SHOWN


def waiting(request: Request, principal: Principal, limit: int = SHOWN) -> list[Waiting]:
    """The oldest contacts waiting for a first answer, for those who triage."""
    return app_triage.waiting(principal, ops_of(request), limit)


def rows(items: list[Waiting], now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "id": w.id,
            "channel": w.channel,
            "sender": w.sender or "unknown sender",
            "excerpt": w.excerpt,
            "due": w.due,
            "late": w.due < now,
            "countdown": countdown(w.due, now),
            "flags": w.flags,
        }
        for w in items
    ]


def _refused(request: Request, user: Principal, exc: FlowdeskError) -> Response:
    status = 403 if isinstance(exc, Forbidden) else 404
    message = "No such contact." if isinstance(exc, NotFoundError) else exc.message
    return error_page(request, message, status_code=status, principal=user)


def _handled() -> Response:
    notice = quote("That contact was already handled.")
    return RedirectResponse("/work?notice=" + notice, status_code=303)


@router.get("/triage/{contact_id}")
def triage_page(request: Request, contact_id: str, access: Triage) -> Response:
    if access.denied:
        return access.denied
    try:
        view = app_triage.view(access.user, ops_of(request), contact_id[:64])
    except FlowdeskError as exc:
        return _refused(request, access.user, exc)
    if view.contact.status != "triage":
        return _handled()
    return _page(request, access.user, view)


def _page(
    request: Request,
    user: Principal,
    view: app_triage.TriageView,
    error: str = "",
    status: int = 200,
    reference: str = "",
) -> Response:
    now = request.app.state.clock.now()
    return render(
        request,
        "triage.html",
        {
            "contact": view.contact,
            "due": view.due,
            "countdown": countdown(view.due, now),
            "reasons": view.reasons,
            "suggested": view.suggested,
            "error": error,
            "sender": view.sender,
            "reference": reference,
        },
        principal=user,
        status_code=status,
    )


async def _posted(request: Request, access: PageAccess) -> dict[str, str] | Response:
    form = await request.form(max_files=0, max_fields=10)
    token = form.get(csrf.CSRF_FIELD)
    if not csrf.valid(request, token if isinstance(token, str) else None):
        return error_page(
            request,
            "The form expired or came from another site. Reload the page and try again.",
            status_code=400,
            principal=access.user,
        )
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _decided(decided: app_triage.Decided, done: str) -> Response:
    if decided.next_item:  # straight on to the case's open step
        target = f"/work/{quote(decided.next_item)}?notice={quote(done)}"
        return RedirectResponse(target, status_code=303)
    return RedirectResponse("/work?notice=" + quote(done), status_code=303)


@router.post("/triage/{contact_id}")
async def decide(request: Request, contact_id: str, access: Triage) -> Response:
    if access.denied:
        return access.denied
    fields = await _posted(request, access)
    if isinstance(fields, Response):
        return fields
    ops = ops_of(request)
    try:
        view = app_triage.view(access.user, ops, contact_id[:64])
    except FlowdeskError as exc:
        return _refused(request, access.user, exc)
    if view.contact.status != "triage":
        return _handled()
    try:
        decided = app_triage.decide(access.user, ops, view.contact.id, fields.get("reason", ""))
    except FormInvalid as exc:
        return _page(request, access.user, view, exc.errors[0]["message"], 422)
    except FlowdeskError as error:
        return RedirectResponse("/work?notice=" + quote(str(error)[:200]), status_code=303)
    result = decided.result
    done = f"Case {result.case_reference}: {result.action}." if result.case_reference else "Done."
    return _decided(decided, done)


@router.post("/triage/{contact_id}/attach")
async def attach(request: Request, contact_id: str, access: Triage) -> Response:
    """Attach the contact to an open case of the same customer instead of starting a flow."""
    if access.denied:
        return access.denied
    fields = await _posted(request, access)
    if isinstance(fields, Response):
        return fields
    reference = fields.get("reference", "").strip()[:40]
    ops = ops_of(request)
    try:
        view = app_triage.view(access.user, ops, contact_id[:64])
    except FlowdeskError as exc:
        return _refused(request, access.user, exc)
    if view.contact.status != "triage":
        return _handled()
    try:
        decided = app_triage.attach_and_open(access.user, ops, view.contact.id, reference)
    except FormInvalid as exc:
        return _page(request, access.user, view, exc.errors[0]["message"], 422, reference)
    except NotFoundError as exc:
        return _page(request, access.user, view, exc.message, 422, reference)
    return _decided(decided, f"Attached to case {decided.result.case_reference}.")
