"""The chat widget's conversations: a session is a signed token (no table, so any Flowdesk
process answers it) naming the customer's email, name and when the chat began; its messages are
the chat contacts of that email since then, the customer's (in) and Flowdesk's (out: the
acknowledgement, agents' replies) in the order they were stored."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select

from flowdesk.channels.outbound import OutboundMessage
from flowdesk.contacts.errors import InvalidContactError
from flowdesk.contacts.models import contacts
from flowdesk.store import Store

#: The secret of a process that was given none (sessions then hold in this process only).
PROCESS_SECRET = secrets.token_hex(32)


@dataclass(frozen=True, slots=True)
class ChatSession:
    id: str
    email: str
    name: str
    started: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def issue(secret: str, session: ChatSession) -> str:
    body = _b64(
        json.dumps(
            {
                "s": session.id,
                "e": session.email,
                "n": session.name,
                "t": session.started.isoformat(),
            }
        ).encode()
    )
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def read(
    secret: str, token: str, *, now: datetime | None = None, max_age: timedelta | None = None
) -> ChatSession:
    """The session a token names; InvalidContactError for one this server did not sign, or
    (given `now` and `max_age`) for one that began longer ago than `max_age`: a leaked token
    must not read a customer's conversation for ever."""
    body, _, mac = token.partition(".")
    expected = _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())
    if not body or not hmac.compare_digest(mac, expected):
        raise InvalidContactError("unknown chat session", hint="start a new chat")
    try:
        fields = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        session = ChatSession(
            fields["s"], fields["e"], fields["n"], datetime.fromisoformat(fields["t"])
        )
    except (ValueError, KeyError, TypeError):
        raise InvalidContactError("unknown chat session", hint="start a new chat") from None
    if now is not None and max_age is not None and now - session.started > max_age:
        raise InvalidContactError("this chat session has expired", hint="start a new chat")
    return session


def messages(store: Store, session: ChatSession, *, after: int = 0) -> list[dict[str, Any]]:
    """The conversation from message number `after` on (the widget's cursor); the database
    skips the earlier ones, which the long poll would otherwise read again on every turn."""
    c = contacts.c
    with store.reading() as conn:
        rows = conn.execute(
            select(c.id, c.direction, c.text, c.received_at, c.details)
            .where(
                and_(
                    c.channel == "chat",
                    c.sender == session.email,
                    c.received_at >= session.started,
                )
            )
            .order_by(c.received_at, c.id)
            .offset(after)
        ).all()
    return [
        {
            "n": n,
            "id": r.id,
            "from": "customer" if r.direction == "in" else "agent",
            "text": r.text or "",
            "at": r.received_at.isoformat(),
        }
        for n, r in enumerate(rows, start=after)
    ]


class WidgetSender:
    """The chat channel's sender when no chat provider is configured: the message is stored
    as an outbound contact by whoever sends it, and the widget reads it from there."""

    def send(self, message: OutboundMessage) -> bytes:
        return json.dumps({"to": message.to, "text": message.text}).encode()
