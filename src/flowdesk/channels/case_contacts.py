"""A case's contacts as the desktop and the status page use them: the list on the case page, an
agent's reply on the channel of the customer's message, and what a customer adds with a photo.

Replies go out through the sender of the contact's channel (email through SMTP, threaded with
In-Reply-To/References to the customer's message; SMS and chat through their provider's send
URL; a web form that gave an email address is answered by email). No sender configured for
the channel is an error naming the setting to set: a reply is never dropped in silence.
Consent and quiet hours are those of notifications (`flowdesk.channels.notify`): a channel the
customer withdrew consent for is refused, and inside their quiet hours the reply is kept as a
deferred outbound contact that `send_due` sends later. Every reply is an outbound contact
(direction "out", the case, the agent) with the event `contact.sent` (or `contact.deferred`)
on the case's process instance, so it is on the timeline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import make_msgid
from typing import Any

from sqlalchemy import select

from flowdesk.cases import service as cases
from flowdesk.cases.models import cases as cases_table
from flowdesk.channels.notify import quiet_until
from flowdesk.channels.outbound import OutboundMessage, Sender
from flowdesk.channels.photos import CheckedPhoto
from flowdesk.contacts.model import REPLYABLE, Contact, contact_from_row
from flowdesk.contacts.models import LIGHT_COLUMNS, contacts
from flowdesk.contacts.outbox import record_outbound
from flowdesk.core.clock import Clock
from flowdesk.core.errors import FlowdeskError, NotFoundError
from flowdesk.core.events import NewEvent
from flowdesk.core.ids import IdGenerator, UuidIds
from flowdesk.customers.views import get_consents, get_preferences
from flowdesk.store import Store

#: The setting that gives a channel its sender (`flowdesk.cases.notifier.senders_from`),
#: named in the error when it is unset.
EMAIL_SETTING = "FLOWDESK_SMTP_HOST"
WEBHOOK_SETTING = "FLOWDESK_NOTIFY_WEBHOOKS"
MAX_REPLY_CHARS = 10_000
#: An address a web form's reply can be emailed to (the form's email field, checked at intake).
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PHOTO_SOURCE = "status-page"


class ReplyRefusedError(FlowdeskError):
    """The reply cannot go out on that channel (no sender, no consent, no address)."""

    code = "invalid-input"


class ReplyFailedError(FlowdeskError):
    """The channel's sender did not take the message (server down, refused); nothing stored."""

    code = "unavailable"


def case_of_instance(store: Store, instance_id: str) -> cases.Case | None:
    with store.reading() as conn:
        case_id = conn.execute(
            select(cases_table.c.id).where(cases_table.c.instance_id == instance_id).limit(1)
        ).scalar()
        return cases.get_case(conn, case_id) if case_id else None


def contacts_of_case(store: Store, case_id: str, *, limit: int = 200) -> list[Contact]:
    """The case's contacts, in and out, newest first."""
    with store.reading() as conn:
        rows = conn.execute(
            select(*LIGHT_COLUMNS)
            .where(contacts.c.case_id == case_id)
            .order_by(contacts.c.received_at.desc(), contacts.c.id.desc())
            .limit(limit)
        ).all()
    return [contact_from_row(r) for r in rows]


def reply_route(contact: Contact) -> tuple[str, str] | None:
    """(channel, address) a customer's message is answered on: its own channel, or email for
    a web form that gave an email address (the form has no channel to answer on); None when
    it cannot be answered."""
    if contact.direction != "in" or not contact.sender:
        return None
    if contact.channel in REPLYABLE:
        return contact.channel, contact.sender
    if contact.channel == "web" and _EMAIL.fullmatch(contact.sender):
        return "email", contact.sender
    return None


def replyable(contact: Contact) -> bool:
    """A customer's message that can be answered (see `reply_route`)."""
    return reply_route(contact) is not None


@dataclass(frozen=True, slots=True)
class Reply:
    status: str  # sent | deferred
    contact_id: str
    channel: str
    to: str
    send_at: datetime | None = None


def _subject(contact: Contact, reference: str | None) -> str:
    subject = contact.subject or "Your request"
    if reference and reference not in subject:
        subject = f"[{reference}] {subject}"
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


def reply(
    store: Store,
    clock: Clock,
    *,
    case: cases.Case,
    instance_id: str,
    contact_id: str,
    text: str,
    actor: str,
    senders: dict[str, Sender],
    ids: IdGenerator | None = None,
) -> Reply:
    """Answer the case's contact `contact_id` on its channel (see the module's doc)."""
    text = text.strip()
    if not text:
        raise ReplyRefusedError("the reply is empty")
    if len(text) > MAX_REPLY_CHARS:
        raise ReplyRefusedError(f"the reply is longer than {MAX_REPLY_CHARS} characters")
    original = next((c for c in contacts_of_case(store, case.id) if c.id == contact_id), None)
    if original is None:
        raise NotFoundError(f"no contact {contact_id!r} on case {case.reference}")
    route = reply_route(original)
    if route is None:
        raise ReplyRefusedError(
            f"a {original.channel} contact cannot be answered on its channel; "
            "choose an email, SMS or chat message or a web form with an email address"
        )
    channel, to = route
    sender = senders.get(channel)
    if sender is None:
        where = (
            f"set {EMAIL_SETTING}"
            if channel == "email"
            else f'set {WEBHOOK_SETTING} to {{"{channel}": "<the provider\'s send URL>"}}'
        )
        raise ReplyRefusedError(
            f"no {channel} sender is configured, so the reply cannot go out: {where}"
        )
    now = clock.now()
    customer_id = original.customer_id or case.customer_id
    with store.reading() as conn:
        consent = get_consents(conn, customer_id).get(channel)
        preferences = get_preferences(conn, customer_id)
    if consent is not None and not consent.granted:
        raise ReplyRefusedError(
            f"the customer has withdrawn consent for {channel}; answer on another channel"
        )
    until = quiet_until(preferences, now)
    message = OutboundMessage(
        channel=channel,
        to=to,
        text=text,
        subject=_subject(original, case.reference),
        in_reply_to=original.message_id,
        references=tuple((original.in_reply_to or "").split()),
        message_id=make_msgid(domain="flowdesk.invalid") if channel == "email" else None,
    )
    raw = b""
    if until is None:
        try:
            raw = sender.send(message)
        except (OSError, ValueError) as exc:  # smtplib and urllib errors are OSErrors
            raise ReplyFailedError(
                f"the {channel} sender did not take the reply ({type(exc).__name__}: {exc}); "
                "nothing was sent or recorded, try again"
            ) from None
    status = "deferred" if until else "sent"
    new_id = (ids or UuidIds()).new_id()
    with store.unit_of_work() as uow:
        record_outbound(
            uow.connection,
            contact_id=new_id,
            channel=channel,
            to=to,
            text=text,
            now=now,
            raw=raw,
            deferred_until=until,
            customer_id=customer_id,
            case_id=case.id,
            subject=message.subject,
            message_id=message.message_id,
            in_reply_to=original.message_id,
            details={"actor": actor, "in_reply_to_contact": original.id},
        )
        uow.append(
            NewEvent(
                f"contact.{status}",
                now,
                {
                    "to": to,
                    "text": text,
                    "reply_to_contact": original.id,
                    "reference": case.reference,
                    **({"send_at": until.isoformat()} if until else {}),
                },
                process_instance_id=instance_id,
                contact_id=new_id,
                customer_id=customer_id,
                case_id=case.id,
                channel=channel,
                actor=actor,
            )
        )
    return Reply(status, new_id, channel, to, until)


def add_photo(
    store: Store,
    clock: Clock,
    *,
    instance_id: str,
    business_key: str | None,
    customer_id: str | None,
    photo: CheckedPhoto,
    note: str,
    ids: IdGenerator | None = None,
) -> str:
    """Store a customer's photo as an inbound web contact of the case (the re-encoded image is
    the raw payload) with the event `customer.photo_added` on its process instance."""
    now = clock.now()
    case = case_of_instance(store, instance_id)
    contact_id = (ids or UuidIds()).new_id()
    extension = "jpg" if photo.content_type == "image/jpeg" else "png"
    attachment = {
        "name": f"photo.{extension}",
        "content_type": photo.content_type,
        "size": len(photo.data),
        "width": photo.width,
        "height": photo.height,
    }
    geo: dict[str, Any] | None = photo.geo.to_dict() if photo.geo else None
    with store.unit_of_work() as uow:
        uow.connection.execute(
            contacts.insert().values(
                id=contact_id,
                channel="web",
                direction="in",
                received_at=now,
                content_type=photo.content_type,
                raw=photo.data,
                status="processed",
                attempts=1,
                customer_id=customer_id,
                text=note or None,
                attachments=[attachment],
                geo=geo,
                details={"source": PHOTO_SOURCE, "instance_id": instance_id},
                case_id=case.id if case else None,
                processed_at=now,
            )
        )
        uow.append(
            NewEvent(
                "customer.photo_added",
                now,
                {
                    "text": note,
                    "photo": contact_id,
                    "business_key": business_key,
                    "location": "shared" if geo else "removed",
                },
                process_instance_id=instance_id,
                contact_id=contact_id,
                customer_id=customer_id,
                case_id=case.id if case else None,
                channel="web",
                actor="customer",
            )
        )
    return contact_id


@dataclass(frozen=True, slots=True)
class StoredPhoto:
    data: bytes
    content_type: str
    instance_id: str | None


def photo_of(store: Store, contact_id: str) -> StoredPhoto:
    """A photo a customer added on the status page (NotFoundError for any other contact)."""
    with store.reading() as conn:
        row = conn.execute(
            select(contacts.c.raw, contacts.c.content_type, contacts.c.details).where(
                contacts.c.id == contact_id
            )
        ).first()
    details = dict(row.details or {}) if row is not None else {}
    if row is None or details.get("source") != PHOTO_SOURCE:
        raise NotFoundError(f"no photo {contact_id!r}")
    return StoredPhoto(bytes(row.raw), str(row.content_type), details.get("instance_id"))
