"""What customers were sent: the outbound contacts (replies, notifications, surveys,
acknowledgements), newest first, with the reference and process instance of their case, as
the /outbox page lists them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from flowdesk.cases.models import cases
from flowdesk.contacts.models import contacts
from flowdesk.store import Store


@dataclass(frozen=True, slots=True)
class SentMessage:
    id: str
    sent_at: datetime
    channel: str
    to: str
    subject: str | None
    text: str
    status: str  # sent | deferred (quiet hours: sent later by the worker)
    case_id: str | None
    reference: str | None
    instance_id: str | None
    actor: str | None  # the agent who replied; None for automatic messages

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sent_at": self.sent_at.isoformat(),
            "channel": self.channel,
            "to": self.to,
            "subject": self.subject,
            "text": self.text,
            "status": self.status,
            "case_id": self.case_id,
            "reference": self.reference,
            "actor": self.actor,
        }


def sent_messages(store: Store, *, limit: int = 200, offset: int = 0) -> list[SentMessage]:
    """One page of outbound contacts, newest first."""
    c = contacts.c
    query = (
        select(
            c.id,
            c.received_at,
            c.channel,
            c.sender,
            c.subject,
            c.text,
            c.status,
            c.case_id,
            c.details,
            cases.c.reference,
            cases.c.instance_id,
        )
        .select_from(contacts.outerjoin(cases, cases.c.id == c.case_id))
        .where(c.direction == "out")
        .order_by(c.received_at.desc(), c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    with store.reading() as conn:
        rows = conn.execute(query).all()
    return [
        SentMessage(
            id=str(r.id),
            sent_at=r.received_at,
            channel=str(r.channel),
            to=str(r.sender or ""),
            subject=r.subject,
            text=str(r.text or ""),
            status=str(r.status),
            case_id=r.case_id,
            reference=r.reference,
            instance_id=r.instance_id,
            actor=(r.details or {}).get("actor"),
        )
        for r in rows
    ]
