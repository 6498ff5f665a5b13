"""Contacts waiting for a first answer: intake could not tell why the customer got in touch, so
a front-office agent decides the reason. They sit in My work beside the flows' tasks, due by the
first-response target, and next best work takes them in deadline order like any other work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.errors import FormInvalid
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Forbidden
from flowdesk.cases import service as cases
from flowdesk.cases.service import Case
from flowdesk.contacts.errors import InvalidContactError
from flowdesk.contacts.intake import Intake, IntakeResult
from flowdesk.contacts.model import Contact
from flowdesk.core.errors import NotFoundError
from flowdesk.customers.service import Customer, get_customer
from flowdesk.experience.service import CatalogEntry, catalog
from flowdesk.routing.triage import TriageSettings

SETTINGS = TriageSettings()
SHOWN = 50


@dataclass(frozen=True, slots=True)
class Waiting:
    """A contact in triage as My work lists it."""

    id: str
    channel: str
    sender: str | None
    excerpt: str
    received_at: datetime
    due: datetime
    flags: tuple[str, ...] = ()


def triages(caller: Caller) -> bool:
    """Triage is the triage department's work (supervisors see it too)."""
    return caller.can(Permission.CONTACTS_TRIAGE) and (
        SETTINGS.department in caller.groups or caller.can(Permission.SUPERVISE)
    )


def waiting(caller: Caller, ops: Ops, limit: int = SHOWN) -> list[Waiting]:
    """The oldest contacts waiting for a first answer, for those who triage."""
    if not triages(caller):
        return []
    intake: Intake = ops.service("intake")
    out = []
    for contact in intake.triage_queue(limit=limit):
        text = " ".join((contact.subject or "", contact.text or "")).strip()
        out.append(
            Waiting(
                contact.id,
                contact.channel,
                contact.sender,
                text[:140] + ("…" if len(text) > 140 else ""),
                contact.received_at,
                contact.received_at + SETTINGS.first_response,
                tuple(contact.details.get("flags") or ()),
            )
        )
    return sorted(out, key=lambda w: (w.due, w.id))


@dataclass(frozen=True, slots=True)
class SenderContext:
    """Who wrote, as far as intake could tell, and their open cases: what the agent needs to
    decide between starting a flow and attaching the contact to a case."""

    customer: Customer | None
    open_cases: list[Case]


def sender_context(caller: Caller, ops: Ops, contact_id: str) -> SenderContext:
    require(caller, Permission.CONTACTS_TRIAGE)
    intake: Intake = ops.service("intake")
    contact = intake.get(contact_id)
    if contact.customer_id is None:
        return SenderContext(None, [])
    with ops.store.reading() as conn:
        try:
            customer: Customer | None = get_customer(conn, contact.customer_id)
        except NotFoundError:
            customer = None
        found = cases.customer_cases(conn, contact.customer_id)
    return SenderContext(customer, [c for c in found if c.status == "open"])


def attach(caller: Caller, ops: Ops, contact_id: str, reference: str) -> IntakeResult:
    """Attach a contact waiting in triage to an open case of the same customer (intake's
    follow-up logic: the flow gets the message when it waits for one)."""
    require(caller, Permission.CONTACTS_TRIAGE)
    if not reference.strip():
        raise FormInvalid([{"field": "reference", "message": "Choose the case to attach to."}])
    intake: Intake = ops.service("intake")
    try:
        return intake.attach_to_case(contact_id, reference[:40], actor=caller.username)
    except InvalidContactError as exc:
        raise FormInvalid([{"field": "reference", "message": exc.message}]) from exc


def _triager(caller: Caller, ops: Ops, contact_id: str) -> Contact:
    """The contact (NotFoundError first, as everywhere), for those who triage."""
    require(caller, Permission.CONTACTS_TRIAGE)
    intake: Intake = ops.service("intake")
    contact = intake.get(contact_id)
    if not triages(caller):
        raise Forbidden(
            f"{caller.username} does not triage contacts",
            hint=f"triage is the work of the {SETTINGS.department} department and supervisors",
        )
    return contact


@dataclass(frozen=True, slots=True)
class TriageView:
    """A contact waiting for its reason, as the triage page shows it."""

    contact: Contact
    due: datetime
    reasons: list[CatalogEntry]
    suggested: set[str]
    sender: SenderContext


def view(caller: Caller, ops: Ops, contact_id: str) -> TriageView:
    """The contact, its first-response due time, the reasons (intake's candidates first) and
    what is known of the sender. NotFoundError for an unknown contact."""
    contact = _triager(caller, ops, contact_id)
    suggested: list[str] = []
    for event in ops.store.events.where(contact_id=contact.id):
        if event.type == "contact.triage_required":
            suggested = [c[0] for c in (event.data or {}).get("candidates") or [] if c]
    reasons = sorted(catalog(ops.store), key=lambda r: (r.reason not in suggested, r.name))
    due = contact.received_at + SETTINGS.first_response
    return TriageView(
        contact, due, reasons, set(suggested), sender_context(caller, ops, contact.id)
    )


@dataclass(frozen=True, slots=True)
class Decided:
    result: IntakeResult
    next_item: str | None  # the first open step of the case's flow, where the agent goes next


def _next_item(ops: Ops, instance_id: str | None) -> str | None:
    items = ops.runtime.work_items(instance_id=instance_id) if instance_id else []
    return str(items[0]["id"]) if items else None


def decide(caller: Caller, ops: Ops, contact_id: str, reason: str) -> Decided:
    """The agent decides the reason: the reason's flow starts or the contact joins the
    customer's open case. FormInvalid names the field (`reason`) when it cannot be."""
    _triager(caller, ops, contact_id)
    intake: Intake = ops.service("intake")
    if reason not in {r.reason for r in catalog(ops.store)}:
        raise FormInvalid([{"field": "reason", "message": "Choose one of the reasons."}])
    result = intake.assign_reason(contact_id, reason, actor=caller.username)
    if result.status == "failed":
        message = result.error or "Processing failed."
        raise FormInvalid([{"field": "reason", "message": message}])
    return Decided(result, _next_item(ops, result.instance_id))


def attach_and_open(caller: Caller, ops: Ops, contact_id: str, reference: str) -> Decided:
    """`attach`, and where the agent goes next (the case's open step)."""
    _triager(caller, ops, contact_id)
    result = attach(caller, ops, contact_id, reference)
    return Decided(result, _next_item(ops, result.instance_id))
