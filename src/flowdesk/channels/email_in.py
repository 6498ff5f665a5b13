"""Inbound email: RFC 5322 bytes -> a ContactDraft (sender, subject, plain text, attachments,
Message-ID and the ids it replies to).

Python's email parser never gives up on bad input, it records defects; a message whose MIME
structure is broken (a multipart without its boundary, a missing From address) is refused with
the defect named, while harmless defects are kept in the details for an agent to see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.errors import (
    CloseBoundaryNotFoundDefect,
    MessageDefect,
    MultipartInvariantViolationDefect,
    NoBoundaryInMultipartDefect,
    StartBoundaryNotFoundDefect,
)
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from typing import Any

from flowdesk.cases.references import normalize_reference
from flowdesk.contacts.errors import InvalidContactError
from flowdesk.contacts.model import MAX_TEXT_CHARS, ContactDraft, make_attachment
from flowdesk.contacts.outbox import record_delivery
from flowdesk.core.clock import Clock
from flowdesk.store import Store

MAX_EMAIL_BYTES = 40 * 1024 * 1024
FATAL_DEFECTS = (
    NoBoundaryInMultipartDefect,
    StartBoundaryNotFoundDefect,
    CloseBoundaryNotFoundDefect,
    MultipartInvariantViolationDefect,
)
_TAGS = re.compile(r"<[^>]+>")
_MSGID = re.compile(r"<[^<>\s]+>")
_QUOTED = re.compile(r"^\s*>.*$", re.M)


def _all_defects(message: EmailMessage) -> list[MessageDefect]:
    found: list[MessageDefect] = list(message.defects)
    for part in message.walk():
        if part is not message:
            found.extend(part.defects)
    return found


def message_ids(header: str | None) -> tuple[str, ...]:
    return tuple(_MSGID.findall(header or ""))


def _text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        content = body.get_content()
    except (LookupError, ValueError):  # unknown charset or broken transfer encoding
        payload = body.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    text = str(content)
    if body.get_content_subtype() == "html":
        text = _TAGS.sub(" ", text)
    return text.strip()[:MAX_TEXT_CHARS]


def _bytes(part: EmailMessage) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def parse_email(raw: bytes) -> ContactDraft:
    """The draft of a message; anything unreadable raises InvalidContactError, never more."""
    try:
        return _parse_email(raw)
    except InvalidContactError:
        raise
    except Exception as exc:  # the stdlib parser has corner cases that raise on bad headers
        raise InvalidContactError(f"malformed email: {type(exc).__name__}: {exc}") from None


def _parse_email(raw: bytes) -> ContactDraft:
    if len(raw) > MAX_EMAIL_BYTES:
        raise InvalidContactError(f"email is {len(raw)} bytes, over {MAX_EMAIL_BYTES}")
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    fatal = [d for d in _all_defects(message) if isinstance(d, FATAL_DEFECTS)]
    if fatal:
        names = ", ".join(sorted({type(d).__name__ for d in fatal}))
        raise InvalidContactError(f"malformed MIME: {names}")
    try:
        sender_header = str(message.get("From", "") or "")
    except (ValueError, TypeError, IndexError):
        raise InvalidContactError("malformed MIME: unreadable From header") from None
    addresses = [(n, a) for n, a in getaddresses([sender_header]) if "@" in a]
    if not addresses:
        raise InvalidContactError("email has no sender address in From")
    name, address = addresses[0]
    subject = str(message.get("Subject", "") or "")[:500]
    text = _text_of(message)
    attachments = tuple(
        make_attachment(part.get_filename() or "attachment", part.get_content_type(), _bytes(part))
        for part in message.iter_attachments()
        if isinstance(part, EmailMessage)
    )
    replies = message_ids(message.get("In-Reply-To")) + message_ids(message.get("References"))
    person: dict[str, str] = {}
    if name and " " in name.strip():
        given, _, family = name.strip().rpartition(" ")
        person = {"given_name": given, "family_name": family}
    unquoted = _QUOTED.sub("", text)
    return ContactDraft(
        channel="email",
        text=text,
        subject=subject or None,
        identifiers=(("email", address),),
        sender=address,
        person=person,
        attachments=attachments,
        details={"defects": sorted({type(d).__name__ for d in _all_defects(message)})},
        message_id=(message_ids(message.get("Message-ID")) or (None,))[0],
        in_reply_to=tuple(dict.fromkeys(replies)),
        case_reference=normalize_reference(subject) or normalize_reference(unquoted),
    )


#: Precedence values of mail no person wrote (RFC 3834 section 2; list and bulk mail).
_AUTO_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
_AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?reply|out of (the )?office|abwesenheit|absence|autosvar)\b", re.I
)
_BOUNCE_SENDER = re.compile(r"^(mailer-daemon|postmaster)@", re.I)


@dataclass(frozen=True, slots=True)
class Automatic:
    """Mail no customer wrote: a bounce (with the Message-ID of the message that bounced and
    the reason) or an auto-reply."""

    kind: str  # bounce | auto-reply
    original: str | None = None
    reason: str | None = None


def automatic(raw: bytes) -> Automatic | None:
    """A delivery-status report (RFC 3464) or a mailer-daemon's message is a bounce; a message
    with Auto-Submitted other than `no` (RFC 3834), an X-Autoreply/X-Autorespond header, an
    automatic Precedence or an out-of-office subject is an auto-reply; None for the rest."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        sender = str(message.get("From", "") or "")
        address = (getaddresses([sender]) or [("", "")])[0][1]
        return_path = str(message.get("Return-Path", "") or "").strip()
        report = message.get_content_type() == "multipart/report" and (
            message.get_param("report-type") == "delivery-status"
        )
    except Exception:  # unreadable headers: not recognised here; intake names the defect
        return None
    if report or _BOUNCE_SENDER.match(address) or return_path == "<>":
        original, reason = _bounced(message)
        return Automatic("bounce", original, reason)
    auto = str(message.get("Auto-Submitted", "") or "").strip().lower()
    precedence = str(message.get("Precedence", "") or "").strip().lower()
    if (
        (auto and auto != "no")
        or message.get("X-Autoreply")
        or message.get("X-Autorespond")
        or precedence in _AUTO_PRECEDENCE
        or _AUTO_SUBJECT.match(str(message.get("Subject", "") or ""))
    ):
        replies = message_ids(message.get("In-Reply-To"))
        return Automatic("auto-reply", replies[0] if replies else None)
    return None


def note_automatic(raw: bytes, store: Store, clock: Clock) -> Automatic | None:
    """Recognise mail no customer wrote (None for a customer's); a bounce is noted on the
    message Flowdesk sent that bounced (its delivery becomes `bounced`, with the reason)."""
    auto = automatic(raw)
    if auto is not None and auto.kind == "bounce" and auto.original:
        with store.unit_of_work() as uow:
            record_delivery(
                uow, provider_id=auto.original, status="bounced", error=auto.reason, now=clock.now()
            )
    return auto


def _bounced(message: Any) -> tuple[str | None, str | None]:
    """The Message-ID of the returned message and the diagnostic, from the report's parts."""
    original: str | None = None
    reason: str | None = None
    for part in message.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else payload
            text = inner.as_string() if hasattr(inner, "as_string") else str(inner)
            found = re.search(r"^Message-ID:\s*(<[^>]+>)", text, re.I | re.M)
            original = original or (found.group(1) if found else None)
        elif kind == "message/delivery-status":
            payload = part.get_payload()
            blocks = payload if isinstance(payload, list) else [payload]
            for block in blocks:
                text = block.as_string() if hasattr(block, "as_string") else str(block)
                found = re.search(r"^Diagnostic-Code:\s*(.+)$", text, re.I | re.M)
                status = re.search(r"^Status:\s*(\S+)", text, re.I | re.M)
                reason = reason or (found.group(1).strip() if found else None)
                reason = reason or (f"status {status.group(1)}" if status else None)
    return original, reason
