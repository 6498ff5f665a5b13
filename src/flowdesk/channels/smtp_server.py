"""The inbound SMTP server (aiosmtpd): every accepted message becomes a contact.

The raw message is stored before the server answers 250, so a message the sender was told we
have is never lost; processing follows right after (a failure dead-letters the contact, the
SMTP transaction still succeeded). Recipients outside the accepted domains are refused at RCPT.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from flowdesk.channels.email_in import note_automatic
from flowdesk.contacts.errors import InvalidContactError
from flowdesk.contacts.intake import Intake, IntakeResult

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 25 * 1024 * 1024


class IntakeHandler:
    def __init__(self, intake: Intake, *, domains: Sequence[str] | None = None) -> None:
        self.intake = intake
        self.domains = {d.lower() for d in domains or ()}
        self.results: list[IntakeResult] = []

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        domain = address.rpartition("@")[2].lower()
        if self.domains and domain not in self.domains:
            return "550 5.1.1 mailbox not served here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogateescape")
        loop = asyncio.get_running_loop()
        try:  # a bounce or an auto-reply is no customer's contact (noted, then accepted)
            auto = await loop.run_in_executor(
                None, note_automatic, data, self.intake.store, self.intake.clock
            )
        except Exception:
            log.exception("could not note an automatic email")
            return "451 4.3.0 temporarily unable to accept the message"
        if auto is not None:
            log.info("automatic email (%s) not taken as a contact", auto.kind)
            return "250 2.0.0 message accepted"
        try:
            contact_id = await loop.run_in_executor(None, self._receive, data)
        except InvalidContactError as exc:
            return f"552 5.3.4 {exc.message}"
        except Exception:  # the database is down: tell the sender to retry later
            log.exception("could not store an inbound email")
            return "451 4.3.0 temporarily unable to accept the message"
        try:
            result = await loop.run_in_executor(None, self.intake.process, contact_id)
        except Exception:  # stored and dead-lettered: the message itself is safe
            log.exception("processing inbound email %s failed", contact_id)
        else:
            self.results.append(result)
        return "250 2.0.0 message accepted"

    def _receive(self, data: bytes) -> str:
        return self.intake.receive("email", data, content_type="message/rfc822")


def smtp_controller(
    intake: Intake,
    *,
    host: str = "127.0.0.1",
    port: int = 8025,
    domains: Sequence[str] | None = None,
    **options: Any,
) -> Controller:
    """A started-on-demand aiosmtpd Controller running the intake handler in a thread."""
    handler = IntakeHandler(intake, domains=domains)
    return Controller(
        handler,
        hostname=host,
        port=port,
        data_size_limit=MAX_MESSAGE_BYTES,
        decode_data=False,
        **options,
    )
