"""The chat widget's use cases: start a chat, write in it, read what came back (long poll).
The customer holds no account: the session token the start answers is their credential for
that one conversation, and they act as the widget, allowed to ingest contacts only."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import timedelta
from typing import Any

from flowdesk.app.contacts import IntakeResult, receive
from flowdesk.app.context import Caller, Ops
from flowdesk.app.providers import provider_caller
from flowdesk.channels import chat_widget
from flowdesk.channels.chat_widget import ChatSession
from flowdesk.contacts.errors import InvalidContactError

MAX_WAIT_S = 25.0
POLL_S = 0.4
MAX_TEXT = 4000
#: How long a session token reads and writes its chat (a day: a chat is not a mailbox).
SESSION_AGE = timedelta(hours=24)


def _secret(ops: Ops) -> str:
    value = getattr(ops.settings, "chat_widget_secret", None)
    return str(value.get_secret_value()) if value is not None else chat_widget.PROCESS_SECRET


def _session(ops: Ops, token: str) -> ChatSession:
    return chat_widget.read(_secret(ops), token, now=ops.clock.now(), max_age=SESSION_AGE)


def _caller() -> Caller:
    return provider_caller("chat-widget")


def start(ops: Ops, name: str, email: str) -> dict[str, Any]:
    """A new chat: the session token and the cursor of its first message."""
    email = email.strip()
    if "@" not in email or len(email) > 320:
        raise InvalidContactError("an email address is needed to start a chat")
    session = ChatSession(uuid.uuid4().hex, email, name.strip()[:200], ops.clock.now())
    return {"session": chat_widget.issue(_secret(ops), session), "cursor": 0}


def write(ops: Ops, token: str, text: str) -> IntakeResult:
    """The customer's message: a chat contact like any other (recognised, attached to the open
    case or opening one)."""
    session = _session(ops, token)
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise InvalidContactError(f"a chat message has 1 to {MAX_TEXT} characters")
    payload = {
        "session_id": session.id,
        "email": session.email,
        "name": session.name,
        "text": text,
    }
    return receive(_caller(), ops, "chat", json.dumps(payload).encode(), "application/json")


async def read(ops: Ops, token: str, after: int, wait_s: float) -> dict[str, Any]:
    """The messages from number `after` on; with none yet, waits up to `wait_s` (long poll).
    The wait is asynchronous and each look runs on a worker thread only for its query, so a
    thousand open widgets hold no threads while they wait."""
    session = _session(ops, token)
    deadline = time.monotonic() + max(0.0, min(wait_s, MAX_WAIT_S))
    after = max(0, after)
    while True:
        found = await asyncio.to_thread(chat_widget.messages, ops.store, session, after=after)
        if found or time.monotonic() >= deadline:
            return {"messages": found, "cursor": after + len(found)}
        await asyncio.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))


def origin_allowed(ops: Ops, origin: str | None) -> str | None:
    """The Access-Control-Allow-Origin for a page on `origin`, None when it may not embed."""
    allowed = list(getattr(ops.settings, "chat_widget_origins", None) or [])
    if "*" in allowed:
        return "*"
    return origin if origin and origin in allowed else None
