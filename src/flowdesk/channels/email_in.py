"""Inbound email: RFC 5322 bytes -> a ContactDraft (sender, subject, plain text, attachments,
Message-ID and the ids it replies to).

Python's email parser never gives up on bad input, it records defects; a message whose MIME
structure is broken (a multipart without its boundary, a missing From address) is refused with
the defect named, while harmless defects are kept in the details for an agent to see.
"""

from __future__ import annotations

import re
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

from flowdesk.cases.references import normalize_reference
from flowdesk.contacts.errors import InvalidContactError
from flowdesk.contacts.model import MAX_TEXT_CHARS, ContactDraft, make_attachment

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
