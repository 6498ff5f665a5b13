"""Messages Flowdesk sends are contacts too (direction "out"), so a customer's timeline shows
both sides of the conversation; every sender (intake's auto-replies, notifications, agents'
replies, surveys) records them here the same way."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, select, update

from flowdesk.contacts.models import contacts
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent
from flowdesk.store import UnitOfWork

#: Delivery states in the order a message goes through them (Twilio's and Meta's words); a
#: callback that arrives late (sent after delivered) never moves a message back, and a failure
#: is kept whenever it comes.
DELIVERY_ORDER = ("accepted", "queued", "sending", "sent", "delivered", "read")


def record_outbound(
    conn: Connection,
    *,
    contact_id: str,
    channel: str,
    to: str,
    text: str,
    now: datetime,
    raw: bytes,
    deferred_until: datetime | None = None,
    customer_id: str | None = None,
    case_id: str | None = None,
    subject: str | None = None,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Store one outbound message: sent now, or deferred (quiet hours) until `deferred_until`,
    when the worker's `send_due` sends it."""
    deferred = deferred_until is not None
    extra = {"send_at": deferred_until.isoformat()} if deferred_until is not None else {}
    # a provider's id for the message (channels.outbound.SentBytes) finds it for status callbacks
    message_id = message_id or getattr(raw, "provider_id", None)
    conn.execute(
        contacts.insert().values(
            id=contact_id,
            channel=channel,
            direction="out",
            received_at=now,
            raw=bytes(raw),
            status="deferred" if deferred else "sent",
            attempts=0 if deferred else 1,
            sender=to[:320],
            customer_id=customer_id,
            subject=subject[:500] if subject else None,
            text=text,
            attachments=[],
            details={**(details or {}), **extra},
            message_id=message_id,
            in_reply_to=in_reply_to,
            case_id=case_id,
            processed_at=None if deferred else now,
        )
    )


def record_delivery(
    uow: UnitOfWork,
    *,
    provider_id: str,
    status: str,
    error: str | None,
    now: datetime,
) -> str | None:
    """Note a provider's delivery state on the outbound message it names (details.delivery,
    with the history of states) and in the event log; None when no message has that id."""
    conn = uow.connection
    row = conn.execute(
        select(contacts.c.id, contacts.c.details, contacts.c.case_id, contacts.c.customer_id)
        .where(and_(contacts.c.message_id == provider_id, contacts.c.direction == "out"))
        .limit(1)
    ).first()
    if row is None:
        return None
    details = dict(row.details or {})
    delivery = dict(details.get("delivery") or {})
    history = list(delivery.get("history") or [])
    if any(h.get("status") == status for h in history):
        return str(row.id)  # the provider's retry of a callback already noted
    history.append({"status": status, "at": now.isoformat(), "error": error})
    current = str(delivery.get("status") or "")
    moves = status not in DELIVERY_ORDER or (
        current in DELIVERY_ORDER and DELIVERY_ORDER.index(status) > DELIVERY_ORDER.index(current)
    )
    if moves or not current:
        delivery.update(status=status, error=error)
    delivery["history"] = history
    details["delivery"] = delivery
    conn.execute(update(contacts).where(contacts.c.id == row.id).values(details=details))
    uow.append(
        NewEvent(
            EventType.CONTACT_DELIVERY,
            now,
            {"provider_id": provider_id, "status": status, "error": error},
            contact_id=str(row.id),
            case_id=row.case_id,
            customer_id=row.customer_id,
        )
    )
    return str(row.id)
