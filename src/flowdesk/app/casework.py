"""A work item's case as the agent works it, for both doors: the customer 360 (profile, this case's
and the customer's timeline, other cases), the conversation (every contact in and out), replies on
the customer's channel and the photos the customer added. Visibility is the work item's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.errors import FormInvalid
from flowdesk.app.work import customer_id_of, get_item
from flowdesk.auth import service as auth
from flowdesk.auth.roles import Permission
from flowdesk.cases.service import Case
from flowdesk.channels import case_contacts
from flowdesk.contacts.model import Contact
from flowdesk.core.errors import NotFoundError
from flowdesk.core.events import StoredEvent
from flowdesk.customers.connectors import Backoffice, BackofficeConfigError, backoffice_key
from flowdesk.customers.service import Customer, get_customer
from flowdesk.experience.service import WorkItemExperience, experience_for
from flowdesk.routing import desk

__all__ = ["WorkItemExperience"]  # re-exported: the case page's step view

TIMELINE = 60


@dataclass
class Customer360:
    customer: Customer | None
    customer_id: str | None
    variables: dict[str, Any]
    business_key: str | None
    timeline: list[StoredEvent] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)


def customer_360(ops: Ops, instance_id: str) -> Customer360:
    """Profile and identities, the timeline of this case and customer, open and past cases.
    (The caller's right to the instance is checked by the use case that calls this.)"""
    state = ops.runtime.instance(instance_id)
    variables = dict(state.vars)
    customer_id = customer_id_of(variables)
    customer = None
    if customer_id:
        try:
            with ops.store.reading() as conn:
                customer = get_customer(conn, customer_id)
        except NotFoundError:
            customer = None
    events = {e.seq: e for e in ops.runtime.history(instance_id)}
    if customer_id:
        events.update({e.seq: e for e in ops.store.events.where(customer_id=customer_id)})
    timeline = sorted(events.values(), key=lambda e: e.seq, reverse=True)[:TIMELINE]
    cases = desk.cases_mentioning(ops.store, customer_id, instance_id)
    return Customer360(customer, customer_id, variables, state.business_key, timeline, cases)


@dataclass
class CaseView:
    item: dict[str, Any]
    case: Case | None
    contacts: list[Contact]
    answerable: list[Contact]
    c360: Customer360


def case_view(caller: Caller, ops: Ops, item_id: str) -> CaseView:
    """Everything the case page shows around one visible work item."""
    item = get_item(caller, ops, item_id)
    case = case_contacts.case_of_instance(ops.store, item["instance_id"])
    contacts = case_contacts.contacts_of_case(ops.store, case.id) if case else []
    answerable = [c for c in contacts if case_contacts.replyable(c)]
    return CaseView(item, case, contacts, answerable, customer_360(ops, item["instance_id"]))


def reply(
    caller: Caller, ops: Ops, item_id: str, contact_id: str | None, text: str
) -> case_contacts.Reply:
    """Answer the customer on the channel of the chosen contact (the latest answerable one by
    default). Refusals name the field: `reply` (text, channel) or `contact`."""
    require(caller, Permission.WORK_ACT)
    item = get_item(caller, ops, item_id)
    case = case_contacts.case_of_instance(ops.store, item["instance_id"])
    if case is None:
        raise FormInvalid(
            [{"field": "reply", "message": "This work has no case with customer contacts."}]
        )
    if not contact_id:
        answerable = [
            c
            for c in case_contacts.contacts_of_case(ops.store, case.id)
            if case_contacts.replyable(c)
        ]
        if not answerable:
            raise FormInvalid(
                [{"field": "contact", "message": "The case has no message to answer."}]
            )
        contact_id = answerable[0].id
    senders = ops.service("reply_senders") or {}
    try:
        return case_contacts.reply(
            ops.store,
            ops.clock,
            case=case,
            instance_id=item["instance_id"],
            contact_id=contact_id,
            text=text,
            actor=caller.username,
            senders=senders,
        )
    except NotFoundError as exc:
        raise FormInvalid([{"field": "contact", "message": exc.message}]) from exc
    except case_contacts.ReplyRefusedError as exc:
        raise FormInvalid([{"field": "reply", "message": exc.message}]) from exc


def photo(caller: Caller, ops: Ops, item_id: str, contact_id: str) -> case_contacts.StoredPhoto:
    """A photo the customer added to this item's case (re-encoded on upload, no metadata)."""
    item = get_item(caller, ops, item_id)
    stored = case_contacts.photo_of(ops.store, contact_id)
    if stored.instance_id != item["instance_id"]:
        raise NotFoundError(f"no photo {contact_id!r} on this case")
    return stored


@dataclass
class BackofficeView:
    item: dict[str, Any]
    key: str | None
    configured: bool
    panels: list[Any]
    problem: str | None


def backoffice_view(caller: Caller, ops: Ops, item_id: str) -> BackofficeView:
    """What the back-office systems know of the case's customer (account number, else id)."""
    item = get_item(caller, ops, item_id)
    try:
        connectors: Backoffice = ops.service("backoffice")
    except BackofficeConfigError as exc:
        return BackofficeView(item, None, True, [], exc.message)
    customer_id = customer_id_of(ops.runtime.instance(item["instance_id"]).vars)
    key = None
    if customer_id is not None:
        try:
            with ops.store.reading() as conn:
                customer = get_customer(conn, customer_id)
        except NotFoundError:
            customer = None
        key = backoffice_key(customer, customer_id)
    panels = connectors.panels(key) if key and connectors.configured else []
    return BackofficeView(item, key, connectors.configured, panels, None)


# -- one conversation per case ----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Entry:
    """One message of a case's conversation: a contact in or out on any channel (status-page
    messages and photos included) or an internal note. `direction` is in, out or note."""

    at: datetime
    direction: str
    channel: str
    who: str
    text: str
    subject: str | None = None
    contact_id: str | None = None
    photo: bool = False
    status: str | None = None
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "direction": self.direction,
            "channel": self.channel,
            "who": self.who,
            "text": self.text,
            "subject": self.subject,
            "contact_id": self.contact_id,
            "photo": self.photo,
            "status": self.status,
            "source": self.source,
        }


class _Names:
    """Agents' display names by username, looked up once each (a deleted user keeps their
    username)."""

    def __init__(self, ops: Ops) -> None:
        self.ops = ops
        self.known: dict[str, str] = {}

    def __call__(self, username: str | None) -> str:
        if not username:
            return "Flowdesk"
        if username not in self.known:
            try:
                user = auth.get_user(self.ops.store, username)
                self.known[username] = user.display_name or username
            except NotFoundError:
                self.known[username] = username
        return self.known[username]


def _customer_name(c360: Customer360) -> str | None:
    cu = c360.customer
    if cu is not None:
        full = " ".join(p for p in (cu.given_name, cu.family_name) if p)
        return cu.display_name or full or None
    name = c360.variables.get("customerName")
    return str(name) if name else None


def conversation(caller: Caller, ops: Ops, item_id: str) -> list[Entry]:
    """Every message of the work item's case in one thread, oldest first: the customer's
    messages and the replies on every channel, what the customer added on the status page
    (text and photos), and the agents' internal notes (never sent)."""
    item = get_item(caller, ops, item_id)
    return _conversation(ops, item["instance_id"])


def _conversation(ops: Ops, instance_id: str) -> list[Entry]:
    names = _Names(ops)
    case = case_contacts.case_of_instance(ops.store, instance_id)
    entries: list[Entry] = []
    customer: str | None = None
    if case is not None:
        with ops.store.reading() as conn:
            try:
                found = get_customer(conn, case.customer_id)
                full = " ".join(p for p in (found.given_name, found.family_name) if p)
                customer = found.display_name or full or None
            except NotFoundError:
                customer = None
        for c in case_contacts.contacts_of_case(ops.store, case.id, limit=500):
            source = c.details.get("source") if isinstance(c.details, dict) else None
            if c.direction == "out":
                who = names(c.details.get("actor")) if isinstance(c.details, dict) else "Flowdesk"
            else:
                who = customer or c.sender or "the customer"
            entries.append(
                Entry(
                    at=c.received_at,
                    direction="out" if c.direction == "out" else "in",
                    channel="status page" if source == case_contacts.PHOTO_SOURCE else c.channel,
                    who=who,
                    text=c.text or "",
                    subject=c.subject,
                    contact_id=c.id,
                    photo=source == case_contacts.PHOTO_SOURCE and bool(c.attachments),
                    status=c.status if c.direction == "out" else None,
                    source=source,
                )
            )
    for e in ops.store.events.where(process_instance_id=instance_id):
        if e.type == "work_item.note_added":
            direction, channel, who = "note", "internal note", names(e.actor)
        elif e.type == "customer.information_added":  # the status page's message box
            direction, channel, who = "in", "status page", customer or "the customer"
        else:
            continue
        entries.append(
            Entry(
                at=e.time,
                direction=direction,
                channel=channel,
                who=who,
                text=str(e.data.get("text") or ""),
                source="status-page" if direction == "in" else None,
            )
        )
    return sorted(entries, key=lambda x: x.at)


# -- the case's story in business words --------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Moment:
    """One line of the business timeline: what happened, in words, and when."""

    at: datetime
    kind: str
    text: str
    who: str | None = None
    quote: str | None = None  # what was said: a reply, a note, a photo's caption
    photo: str | None = None  # the contact id of a photo the customer added

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "kind": self.kind,
            "text": self.text,
            "who": self.who,
            "quote": self.quote,
            "photo": self.photo,
        }


def _words(e: StoredEvent, names: _Names, steps: dict[str, str]) -> str | None:
    """The event in the words of the business, or None for the engine's own bookkeeping
    (element.activated, variables.changed, tokens ...), which the desktop does not show."""
    d = e.data or {}
    by = f" by {names(e.actor)}" if e.actor else ""
    step = d.get("element_name") or steps.get(str(d.get("work_item_id"))) or e.element_id
    match e.type:
        case "case.opened":
            channel = e.channel or d.get("channel")
            return f"Case opened from {channel}" if channel else "Case opened"
        case "process.started":
            return "Flow started"
        case "process.completed":
            return "Flow finished"
        case "process.cancelled":
            return "Flow cancelled"
        case "case.closed":
            return "Case closed" + (f" ({d['outcome']})" if d.get("outcome") else "")
        case "case.reopened":
            return "Case reopened"
        case "case.contact_attached":
            return f"A new {e.channel or 'message'} from the customer joined the case"
        case "work_item.created":
            return f"Step '{step}' is waiting"
        case "work_item.claimed":
            return f"Step '{step}' taken{by}"
        case "work_item.unclaimed":
            return f"Step '{step}' given back to the queue{by}"
        case "work_item.delegated":
            return f"Step '{step}' delegated to {names(d.get('to') or d.get('assignee'))}{by}"
        case "work_item.completed":
            return f"Step '{step}' completed{by}"
        case "work_item.cancelled":
            return f"Step '{step}' cancelled"
        case "work_item.note_added":
            return f"Internal note{by}"
        case "work_item.transferred":
            return f"Handed over to {_department(d.get('to_department'))}{by}"
        case "department.handoff":
            return f"Handed over to {_department(d.get('to_department'))}"
        case "contact.sent":
            return f"Reply sent by {_channel_word(e.channel or d.get('channel'))}{by}"
        case "contact.deferred":
            return "Reply kept until the customer's quiet hours end"
        case "customer.photo_added":
            return "Customer added a photo"
        case "customer.information_added":
            return "Customer added information on the status page"
        case "sla.breached":
            return f"Step '{step}' passed its deadline"
        case "sla.escalated":
            return f"Step '{step}' escalated"
        case "incident.raised":
            return "A technical problem stopped the flow"
        case "incident.resolved":
            return "The technical problem was solved"
        case "survey.answered":
            return "Customer answered the survey"
        case "case.status_requested":
            return "Customer asked how the case is going"
        case "call.offered":
            return f"Call from {d.get('caller') or 'the customer'}"
        case "call.answered":
            return f"Call answered{by}"
        case "call.transferred":
            return f"Call transferred to {names(d.get('agent'))}" + (
                f" by {names(d.get('from_agent'))}" if d.get("from_agent") else ""
            )
        case "call.ended":
            length = (
                f", {d['duration_s'] // 60}:{d['duration_s'] % 60:02d}"
                if d.get("duration_s")
                else ""
            )
            return f"Call ended ({d.get('outcome') or 'completed'}{length})"
        case "call.voicemail":
            return "Customer left a voicemail"
    return None


_QUOTED = {
    "contact.sent",
    "contact.deferred",
    "work_item.note_added",
    "customer.photo_added",
    "customer.information_added",
}


def _department(value: Any) -> str:
    text = str(value or "another department").replace("-", " ")
    return text[:1].upper() + text[1:]


def _channel_word(channel: Any) -> str:
    return {"sms": "SMS", "email": "email", "chat": "chat", "web": "email"}.get(
        str(channel), str(channel or "message")
    )


def timeline(caller: Caller, ops: Ops, item_id: str) -> list[Moment]:
    """The case's story in business words, newest first: opened, steps taken and completed,
    replies, hand-overs, photos. Engine-internal events are left out."""
    item = get_item(caller, ops, item_id)
    return _timeline(ops, item["instance_id"])


def _timeline(ops: Ops, instance_id: str) -> list[Moment]:
    names = _Names(ops)
    events = {e.seq: e for e in ops.runtime.history(instance_id)}
    case = case_contacts.case_of_instance(ops.store, instance_id)
    if case is not None:
        events.update({e.seq: e for e in ops.store.events.where(case_id=case.id)})
    steps = {
        r["id"]: r["name"] or r["element_id"]
        for r in desk.work_page(
            ops.store, visible_to=None, status=None, instance_id=instance_id, limit=500
        )
    }
    out = []
    for e in sorted(events.values(), key=lambda x: x.seq, reverse=True):
        text = _words(e, names, steps)
        if text is not None:
            said = e.data.get("text") if e.type in _QUOTED else None
            photo = e.data.get("photo") if e.type == "customer.photo_added" else None
            out.append(
                Moment(
                    e.time,
                    e.type,
                    text,
                    names(e.actor) if e.actor else None,
                    str(said)[:400] if said else None,
                    str(photo) if photo else None,
                )
            )
    return out[:TIMELINE]


def step_experience(
    caller: Caller, ops: Ops, item_id: str, answers: Mapping[str, Any] | None = None
) -> WorkItemExperience:
    """The step as the agent works it: script (with the answers so far), knowledge, panels,
    form, status text and SLA, for a work item the caller may see."""
    get_item(caller, ops, item_id)
    return experience_for(ops.store, item_id, answers=answers)
