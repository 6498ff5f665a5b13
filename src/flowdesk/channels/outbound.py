"""Messages out: replies and notifications on email (SMTP), SMS, chat and the other channels.

Email goes through a real SMTP server with a fresh Message-ID, and In-Reply-To/References to
the customer's message, so the customer's reply threads back to the case. SMS, chat and the
rest go to a webhook URL per channel (the provider's send endpoint) as JSON. `RecordingSender`
keeps messages in memory (tests, dry runs).
"""

from __future__ import annotations

import json
import smtplib
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    channel: str
    to: str
    text: str
    subject: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    message_id: str | None = None


class SentBytes(bytes):
    """What a provider's API took, with the id it gave the message (Twilio's `twilio:SM...`,
    WhatsApp's `whatsapp:wamid...`): kept as the outbound contact's message id, so the
    provider's delivery-status callbacks find the message."""

    provider_id: str | None

    def __new__(cls, data: bytes, *, provider_id: str | None = None) -> SentBytes:
        made = super().__new__(cls, data)
        made.provider_id = provider_id
        return made


class Sender(Protocol):
    def send(self, message: OutboundMessage) -> bytes:
        """Send; returns the bytes that went out (stored as the outbound contact's raw)."""
        ...


def build_email(message: OutboundMessage, from_address: str, domain: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = from_address
    email["To"] = message.to
    email["Subject"] = message.subject or "Your request"
    email["Message-ID"] = message.message_id or make_msgid(domain=domain)
    if message.in_reply_to:
        email["In-Reply-To"] = message.in_reply_to
        email["References"] = " ".join(dict.fromkeys((*message.references, message.in_reply_to)))
    email.set_content(message.text)
    return email


class SmtpSender:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        from_address: str = "service@flowdesk.invalid",
        domain: str = "flowdesk.invalid",
        timeout: float = 10.0,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.from_address = from_address
        self.domain = domain
        self.timeout = timeout
        self.starttls = starttls
        self.username = username
        self.password = password

    def send(self, message: OutboundMessage) -> bytes:
        email = build_email(message, self.from_address, self.domain)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username and self.password:
                smtp.login(self.username, self.password)
            smtp.send_message(email)
        return email.as_bytes()


class WebhookSender:
    """POSTs {to, text, in_reply_to} as JSON to the channel provider's send URL."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"webhook sender URL must be http(s): {url!r}")
        self.url = url
        self.timeout = timeout

    def send(self, message: OutboundMessage) -> bytes:
        body = json.dumps(
            {
                "channel": message.channel,
                "to": message.to,
                "text": message.text,
                "in_reply_to": message.in_reply_to,
            }
        ).encode()
        request = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            response.read()
        return body


@dataclass
class RecordingSender:
    sent: list[OutboundMessage] = field(default_factory=list)

    def send(self, message: OutboundMessage) -> bytes:
        self.sent.append(message)
        return json.dumps({"to": message.to, "text": message.text}).encode()
