"""A work item's case as the agent works it, for both doors: the customer 360 (profile, this case's
and the customer's timeline, other cases), the conversation (every contact in and out), replies on
the customer's channel and the photos the customer added. Visibility is the work item's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.errors import FormInvalid
from flowdesk.app.work import customer_id_of, get_item
from flowdesk.auth.roles import Permission
from flowdesk.cases.service import Case
from flowdesk.channels import case_contacts
from flowdesk.contacts.model import Contact
from flowdesk.core.errors import NotFoundError
from flowdesk.core.events import StoredEvent
from flowdesk.customers.connectors import Backoffice, BackofficeConfigError, backoffice_key
from flowdesk.customers.service import Customer, get_customer
from flowdesk.routing import desk

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
