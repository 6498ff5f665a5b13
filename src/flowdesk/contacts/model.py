"""The one Contact model every channel adapter produces, and the limits on attachments.

Adapters turn a channel's raw payload into a `ContactDraft` (pure data, no database); intake
stores the raw payload first and then the draft's fields on the same row.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flowdesk.contacts.errors import AttachmentRefusedError, InvalidContactError

CHANNELS = (
    "email",
    "phone",
    "chat",
    "sms",
    "web",
    "social",
    "letter",
    "fax",
    "counter",
    "app",
    "whatsapp",
)
#: Channels a reply can go back on (the customer wrote from an address or session).
REPLYABLE = ("email", "sms", "chat", "app", "social", "whatsapp")

#: Largest attachment accepted, and the types accepted (documents, images, audio of calls).
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ALLOWED_TYPES = frozenset(
    {
        "application/pdf",
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/tiff",
        "image/heic",
        "text/plain",
        "text/csv",
        "audio/mpeg",
        "audio/wav",
    }
)
MAX_TEXT_CHARS = 100_000

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str
    content_type: str
    size: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
        }


@dataclass(frozen=True, slots=True)
class Geo:
    latitude: float
    longitude: float
    accuracy_m: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "latitude": self.latitude,
            "longitude": self.longitude,
            "accuracy_m": self.accuracy_m,
        }


@dataclass(frozen=True, slots=True)
class ContactDraft:
    """What a channel adapter read from a payload; `identifiers` are (kind, value) pairs."""

    channel: str
    text: str = ""
    subject: str | None = None
    identifiers: tuple[tuple[str, str], ...] = ()
    sender: str | None = None
    person: dict[str, Any] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()
    geo: Geo | None = None
    details: dict[str, Any] = field(default_factory=dict)
    message_id: str | None = None
    in_reply_to: tuple[str, ...] = ()
    reason: str | None = None  # stated explicitly (a form field, an agent's choice)
    ivr_choice: str | None = None
    case_reference: str | None = None  # given in a field, not only in the text

    def dedup_key(self) -> str:
        """Same channel, sender, text and attachments: the same submission sent twice."""
        digest = hashlib.sha256()
        for part in (
            self.channel,
            (self.sender or "").lower(),
            _SPACES.sub(" ", self.text).strip().lower(),
            (self.subject or "").strip().lower(),
            *sorted(a.sha256 for a in self.attachments),
        ):
            digest.update(part.encode() + b"\0")
        return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Contact:
    """A stored contact, as reads return it."""

    id: str
    channel: str
    direction: str
    received_at: datetime
    status: str
    customer_id: str | None
    sender: str | None
    subject: str | None
    text: str | None
    attachments: list[dict[str, Any]]
    geo: dict[str, Any] | None
    details: dict[str, Any]
    message_id: str | None
    in_reply_to: str | None
    reason: str | None
    reason_source: str | None
    confidence: float | None
    case_id: str | None
    duplicate_of: str | None
    error: str | None
    attempts: int
    processed_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channel": self.channel,
            "direction": self.direction,
            "received_at": self.received_at.isoformat(),
            "status": self.status,
            "customer_id": self.customer_id,
            "sender": self.sender,
            "subject": self.subject,
            "text": self.text,
            "attachments": self.attachments,
            "geo": self.geo,
            "details": self.details,
            "message_id": self.message_id,
            "in_reply_to": self.in_reply_to,
            "reason": self.reason,
            "reason_source": self.reason_source,
            "confidence": self.confidence,
            "case_id": self.case_id,
            "duplicate_of": self.duplicate_of,
            "error": self.error,
            "attempts": self.attempts,
            "processed_at": self.processed_at.isoformat() if self.processed_at else None,
        }


def check_channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise InvalidContactError(
            f"unknown channel {channel!r}", hint=f"use one of {', '.join(CHANNELS)}"
        )
    return channel


def make_attachment(name: str, content_type: str, data: bytes) -> Attachment:
    """An attachment after the checks: refused when too large or of a refused type."""
    kind = (content_type or "application/octet-stream").split(";")[0].strip().lower()
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise AttachmentRefusedError(
            f"attachment {name!r} is {len(data)} bytes, over the limit of "
            f"{MAX_ATTACHMENT_BYTES} bytes",
            hint="send a smaller file or a link to it",
        )
    if kind not in ALLOWED_TYPES:
        raise AttachmentRefusedError(
            f"attachment {name!r} has the refused type {kind!r}",
            hint="accepted: " + ", ".join(sorted(ALLOWED_TYPES)),
        )
    return Attachment(name or "attachment", kind, len(data), hashlib.sha256(data).hexdigest())


def geo_from(value: Any) -> Geo | None:
    """A GPS position from {latitude, longitude[, accuracy_m]}; checked for range."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidContactError("geo must be an object with latitude and longitude")
    try:
        lat = float(value["latitude"])
        lon = float(value["longitude"])
        acc = value.get("accuracy_m")
        accuracy = None if acc is None else float(acc)
    except (KeyError, TypeError, ValueError):
        raise InvalidContactError("geo needs numeric latitude and longitude") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidContactError(f"geo position ({lat}, {lon}) is out of range")
    return Geo(lat, lon, accuracy)


def contact_from_row(row: Any) -> Contact:
    """A contact from a row of the contacts table (any columns but `raw`)."""
    m = row._mapping
    return Contact(
        id=m["id"],
        channel=m["channel"],
        direction=m["direction"],
        received_at=m["received_at"],
        status=m["status"],
        customer_id=m["customer_id"],
        sender=m["sender"],
        subject=m["subject"],
        text=m["text"],
        attachments=list(m["attachments"] or []),
        geo=m["geo"],
        details=dict(m["details"] or {}),
        message_id=m["message_id"],
        in_reply_to=m["in_reply_to"],
        reason=m["reason"],
        reason_source=m["reason_source"],
        confidence=m["confidence"],
        case_id=m["case_id"],
        duplicate_of=m["duplicate_of"],
        error=m["error"],
        attempts=m["attempts"],
        processed_at=m["processed_at"],
    )
