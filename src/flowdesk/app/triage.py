"""Contacts waiting for a first answer: intake could not tell why the customer got in touch, so
a front-office agent decides the reason. They sit in My work beside the flows' tasks, due by the
first-response target, and next best work takes them in deadline order like any other work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.errors import FormInvalid
from flowdesk.auth.roles import Permission
from flowdesk.cases import service as cases
from flowdesk.cases.service import Case
from flowdesk.contacts.errors import InvalidContactError
from flowdesk.contacts.intake import Intake, IntakeResult
from flowdesk.core.errors import NotFoundError
from flowdesk.customers.service import Customer, get_customer
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
