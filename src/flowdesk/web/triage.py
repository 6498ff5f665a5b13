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

from flowdesk.api.routes.common import ops_of, runtime_of
from flowdesk.api.routes.contacts import intake_of
from flowdesk.app import triage as app_triage
from flowdesk.app.triage import Waiting
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal
from flowdesk.contacts.model import Contact
from flowdesk.core.errors import FlowdeskError, NotFoundError
from flowdesk.core.event_types import EventType
from flowdesk.experience.service import catalog
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


@router.get("/triage/{contact_id}")
def triage_page(request: Request, contact_id: str, access: Triage) -> Response:
    if access.denied:
        return access.denied
    intake = intake_of(request)
    try:
        contact = intake.get(contact_id)
    except (NotFoundError, FlowdeskError):
        return error_page(request, "No such contact.", status_code=404, principal=access.user)
    if contact.status != "triage":
        return RedirectResponse(
            "/work?notice=" + quote("That contact was already handled."), status_code=303
        )
    return _page(request, access.user, contact)


def _page(
    request: Request, user: Principal, contact: Contact, error: str = "", status: int = 200
) -> Response:
    contact_id = contact.id
    store = request.app.state.store
    suggested = []
    for event in store.events.where(contact_id=contact_id):
        if event.type == EventType.CONTACT_TRIAGE_REQUIRED:
            suggested = [c[0] for c in (event.data or {}).get("candidates") or [] if c]
    reasons = sorted(catalog(store), key=lambda r: (r.reason not in suggested, r.name))
    now = request.app.state.clock.now()
    due = contact.received_at + SETTINGS.first_response
    return render(
        request,
        "triage.html",
        {
            "contact": contact,
            "due": due,
            "countdown": countdown(due, now),
            "reasons": reasons,
            "suggested": set(suggested),
            "error": error,
        },
        principal=user,
        status_code=status,
    )


@router.post("/triage/{contact_id}")
async def decide(request: Request, contact_id: str, access: Triage) -> Response:
    if access.denied:
        return access.denied
    form = await request.form(max_files=0, max_fields=10)
    token = form.get(csrf.CSRF_FIELD)
    if not csrf.valid(request, token if isinstance(token, str) else None):
        return error_page(
            request,
            "The form expired or came from another site. Reload the page and try again.",
            status_code=400,
            principal=access.user,
        )
    reason = form.get("reason")
    known = {r.reason for r in catalog(request.app.state.store)}
    if not isinstance(reason, str) or reason not in known:
        return _page(
            request,
            access.user,
            intake_of(request).get(contact_id),
            "Choose one of the reasons.",
            422,
        )
    try:
        result = intake_of(request).assign_reason(contact_id, reason, actor=access.user.username)
    except NotFoundError:
        return error_page(request, "No such contact.", status_code=404, principal=access.user)
    except FlowdeskError as error:
        return RedirectResponse("/work?notice=" + quote(str(error)[:200]), status_code=303)
    if result.status == "failed":
        return _page(
            request,
            access.user,
            intake_of(request).get(contact_id),
            result.error or "Processing failed.",
            422,
        )
    if result.instance_id:
        items = runtime_of(request).work_items(instance_id=result.instance_id)
        if items:  # straight on to the flow's first step
            return RedirectResponse(f"/work/{quote(str(items[0]['id']))}", status_code=303)
    done = f"Case {result.case_reference}: {result.action}." if result.case_reference else "Done."
    return RedirectResponse("/work?notice=" + quote(done), status_code=303)
