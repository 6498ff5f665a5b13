"""Messages Flowdesk sends are contacts too (direction "out"), so a customer's timeline shows
both sides of the conversation; every sender (intake's auto-replies, notifications, agents'
replies, surveys) records them here the same way."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from flowdesk.contacts.models import contacts


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
    conn.execute(
        contacts.insert().values(
            id=contact_id,
            channel=channel,
            direction="out",
            received_at=now,
            raw=raw,
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
