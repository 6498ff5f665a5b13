"""Notifications out on the customer's preferred channel, respecting consent and quiet hours.

The preferred channel is tried first, then email, SMS and app. A channel the customer has
withdrawn consent for, or one without an address or a configured sender, is skipped. Inside
the customer's quiet hours (in their time zone) the message is kept as a deferred outbound
contact and `send_due` sends it once the quiet hours are over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update

from flowdesk.channels.outbound import OutboundMessage, Sender
from flowdesk.contacts.models import contacts
from flowdesk.contacts.outbox import record_outbound
from flowdesk.core.clock import Clock
from flowdesk.core.errors import NotFoundError
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent
from flowdesk.core.ids import IdGenerator, UuidIds
from flowdesk.customers.views import Preferences, get_consents, get_customer, get_preferences
from flowdesk.store import Store

FALLBACK = ("email", "sms", "app")
ADDRESS_KIND = {
    "email": "email",
    "sms": "phone",
    "phone": "phone",
    "app": "device",
    "chat": "email",
}


@dataclass(frozen=True, slots=True)
class Notification:
    status: str  # sent | deferred | refused
    channel: str | None
    to: str | None
    send_at: datetime | None = None
    reason: str | None = None
    contact_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "channel": self.channel,
            "to": self.to,
            "send_at": self.send_at.isoformat() if self.send_at else None,
            "reason": self.reason,
            "contact_id": self.contact_id,
        }


def _hhmm(text: str) -> time:
    hours, _, minutes = text.partition(":")
    return time(int(hours), int(minutes or 0))


def quiet_until(preferences: Preferences | None, now: datetime) -> datetime | None:
    """When the quiet hours that `now` falls in end (UTC), or None outside quiet hours."""
    if preferences is None or not preferences.quiet_start or not preferences.quiet_end:
        return None
    try:
        zone = ZoneInfo(preferences.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    start, end = _hhmm(preferences.quiet_start), _hhmm(preferences.quiet_end)
    clock = local.time()
    overnight = start > end
    inside = (clock >= start or clock < end) if overnight else (start <= clock < end)
    if not inside:
        return None
    day = local.date()
    if overnight and clock >= start:
        day = day + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone).astimezone(now.tzinfo)


def notify(
    store: Store,
    clock: Clock,
    customer_id: str,
    text: str,
    *,
    senders: dict[str, Sender],
    subject: str | None = None,
    case_id: str | None = None,
    ids: IdGenerator | None = None,
    for_channel: Callable[[str], tuple[str | None, str]] | None = None,
) -> Notification:
    now = clock.now()
    with store.reading() as conn:
        customer = get_customer(conn, customer_id)
        if customer is None:
            raise NotFoundError(f"no customer {customer_id!r}")
        preferences = get_preferences(conn, customer.id)
        consents = get_consents(conn, customer.id)
    order = [preferences.channel] if preferences and preferences.channel else []
    order += [c for c in FALLBACK if c not in order]
    skipped: list[str] = []
    for channel in order:
        consent = consents.get(channel)
        if consent is not None and not consent.granted:
            skipped.append(f"{channel}: no consent")
            continue
        kind = ADDRESS_KIND.get(channel)
        address = next((i.value for i in customer.identities if i.kind == kind), None)
        if address is None or channel not in senders:
            skipped.append(f"{channel}: no {'address' if address is None else 'sender'}")
            continue
        if for_channel is not None:  # the same content, rendered for the chosen channel
            subject, text = for_channel(channel)
        until = quiet_until(preferences, now)
        message = OutboundMessage(channel=channel, to=address, text=text, subject=subject)
        status = "deferred" if until else "sent"
        raw = b"" if until else senders[channel].send(message)
        contact_id = (ids or UuidIds()).new_id()
        with store.unit_of_work() as uow:
            record_outbound(
                uow.connection,
                contact_id=contact_id,
                channel=channel,
                to=address,
                text=text,
                now=now,
                raw=raw,
                deferred_until=until,
                customer_id=customer.id,
                case_id=case_id,
                subject=subject,
            )
            uow.append(
                NewEvent(
                    EventType.NOTIFICATION_DEFERRED if until else EventType.NOTIFICATION_SENT,
                    now,
                    {"to": address, **({"send_at": until.isoformat()} if until else {})},
                    contact_id=contact_id,
                    customer_id=customer.id,
                    case_id=case_id,
                    channel=channel,
                )
            )
        return Notification(status, channel, address, until, None, contact_id)
    return Notification("refused", None, None, reason="; ".join(skipped))


def send_due(store: Store, clock: Clock, *, senders: dict[str, Sender]) -> int:
    """Send deferred notifications whose quiet hours are over; returns how many went out."""
    now = clock.now()
    with store.reading() as conn:
        rows = conn.execute(
            select(
                contacts.c.id,
                contacts.c.channel,
                contacts.c.sender,
                contacts.c.subject,
                contacts.c.text,
                contacts.c.details,
                contacts.c.message_id,
                contacts.c.in_reply_to,
            ).where(contacts.c.direction == "out", contacts.c.status == "deferred")
        ).all()
    sent = 0
    for row in rows:
        send_at = datetime.fromisoformat(str((row.details or {}).get("send_at")))
        if send_at > now or row.channel not in senders:
            continue
        # A deferred reply keeps its place in the customer's email thread.
        message = OutboundMessage(
            row.channel,
            row.sender or "",
            row.text or "",
            subject=row.subject,
            in_reply_to=row.in_reply_to,
            references=(row.in_reply_to,) if row.in_reply_to else (),
            message_id=row.message_id,
        )
        raw = senders[row.channel].send(message)
        with store.unit_of_work() as uow:
            uow.connection.execute(
                update(contacts)
                .where(contacts.c.id == row.id, contacts.c.status == "deferred")
                .values(
                    status="sent",
                    raw=bytes(raw),
                    attempts=1,
                    processed_at=now,
                    message_id=row.message_id or getattr(raw, "provider_id", None),
                )
            )
        sent += 1
    return sent
