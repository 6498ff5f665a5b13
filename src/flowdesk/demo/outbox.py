"""The demo company's outbox: where replies and notifications to the demo's customers arrive.

The demo's customers have made-up addresses, so without a mail server and SMS/chat providers
every reply from the case page failed ("no sender is configured"). `flowdesk serve` with the
demo therefore starts, unless real senders are configured (or FLOWDESK_DEMO_OUTBOX=false):

- an SMTP server (aiosmtpd) on 127.0.0.1 that accepts every message, the customers' mailbox;
- an HTTP receiver on 127.0.0.1 with one send URL per other channel (POST /sms, /chat, ...),
  standing in for the SMS and chat providers;

and points FLOWDESK_SMTP_HOST/_PORT and FLOWDESK_NOTIFY_WEBHOOKS at them, so agents' replies
and the worker's notifications take the production path (smtplib, the webhook sender) to a
real server. Every message received is appended to the event log as `demo.outbox.received`
(channel, to, subject, text, the case reference it names), the record that it arrived; what
Flowdesk sent is also an outbound contact, which the /outbox page lists.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI, HTTPException, Request
from sqlalchemy import select

from flowdesk.cases.models import cases
from flowdesk.cases.references import references_in
from flowdesk.cases.surveys import CONSUMER as SURVEYS_CONSUMER
from flowdesk.cases.updates import CONSUMER as UPDATES_CONSUMER
from flowdesk.core.clock import Clock
from flowdesk.core.events import NewEvent
from flowdesk.demo.backoffice import BackgroundServer
from flowdesk.logs import get_logger
from flowdesk.store import Store

log = get_logger("flowdesk.demo.outbox")

EVENT = "demo.outbox.received"
#: The channels that get a send URL (all outbound channels but email).
WEBHOOK_CHANNELS = ("sms", "chat", "app", "social", "whatsapp")
MAX_MESSAGE_BYTES = 5 * 1024 * 1024
MAX_TEXT_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class Received:
    channel: str
    to: str
    subject: str | None
    text: str


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def parse_email(raw: bytes) -> Received:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain", "html"))
    text = body.get_content() if body is not None else ""
    return Received("email", str(message.get("To", "")), message.get("Subject"), str(text))


class DemoOutbox:
    """The SMTP sink and the webhook receiver; `start()` them, then read `smtp_port` and
    `webhooks` (channel -> send URL) to configure the senders."""

    def __init__(self, store: Store, clock: Clock, *, host: str = "127.0.0.1") -> None:
        self.store = store
        self.clock = clock
        self.host = host
        self.smtp_port = 0
        self.webhooks: dict[str, str] = {}
        self._smtp: Controller | None = None
        self._http: BackgroundServer | None = None

    def start(self) -> None:
        # aiosmtpd logs every connection at INFO on "mail.log": noise in `flowdesk serve`'s output
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.smtp_port = _free_port(self.host)
        self._smtp = Controller(
            _SmtpHandler(self),
            hostname=self.host,
            port=self.smtp_port,
            data_size_limit=MAX_MESSAGE_BYTES,
            decode_data=False,
        )
        self._smtp.start()
        self._http = BackgroundServer(self._receiver_app(), host=self.host)
        base = self._http.start()
        self.webhooks = {channel: f"{base}/{channel}" for channel in WEBHOOK_CHANNELS}

    def stop(self) -> None:
        if self._http is not None:
            self._http.stop()
        if self._smtp is not None:
            self._smtp.stop()

    def record(self, message: Received) -> None:
        """Append the received message to the event log, with its case when it names one."""
        text = message.text[:MAX_TEXT_CHARS]
        found = references_in(f"{message.subject or ''} {text}")
        reference = found[0] if found else None
        with self.store.unit_of_work() as uow:
            case_id = None
            if reference is not None:
                case_id = uow.connection.execute(
                    select(cases.c.id).where(cases.c.reference == reference)
                ).scalar()
            uow.append(
                NewEvent(
                    EVENT,
                    self.clock.now(),
                    {
                        "to": message.to[:320],
                        "subject": message.subject,
                        "text": text,
                        "reference": reference,
                    },
                    case_id=case_id,
                    channel=message.channel,
                    actor="demo-outbox",
                )
            )

    def _receiver_app(self) -> FastAPI:
        app = FastAPI(title="Flowdesk demo outbox", docs_url=None, redoc_url=None)

        @app.post("/{channel}", status_code=202)
        async def receive(channel: str, request: Request) -> dict[str, str]:
            if channel not in WEBHOOK_CHANNELS:
                raise HTTPException(404, f"no demo provider for {channel!r}")
            body: Any = await request.json()
            if not isinstance(body, dict) or not body.get("to"):
                raise HTTPException(422, "expected a JSON object with to and text")
            message = Received(channel, str(body["to"]), None, str(body.get("text") or ""))
            await asyncio.get_running_loop().run_in_executor(None, self.record, message)
            return {"status": "accepted"}

        return app


class _SmtpHandler:
    def __init__(self, outbox: DemoOutbox) -> None:
        self.outbox = outbox

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogateescape")
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, lambda: self.outbox.record(parse_email(data)))
        except Exception:  # the database is busy or down: the sender retries later
            log.exception("demo outbox could not store a message")
            return "451 4.3.0 temporarily unable to accept the message"
        return "250 2.0.0 delivered to the demo outbox"


def skip_history(store: Store) -> None:
    """Start the notification and survey cursors at the end of the log, where they do not
    exist yet: the demo's generated history happened before there was anyone to tell, and
    announcing a month of it at once would bury the replies an agent sends now."""
    for consumer in (UPDATES_CONSUMER, SURVEYS_CONSUMER):
        store.events.register(consumer, from_start=False)
