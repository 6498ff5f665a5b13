"""Real email: SMTP into the Flowdesk inbound server, the reply out through SMTP to a sink, and
the customer's reply (In-Reply-To) attached to the same case."""

from __future__ import annotations

import smtplib
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from flowdesk.channels.outbound import SmtpSender
from flowdesk.channels.smtp_server import IntakeHandler, smtp_controller
from flowdesk.contacts.intake import Intake
from flowdesk.core.clock import FixedClock
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sink:
    """A local SMTP server that keeps what it receives (the customer's mailbox)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


@contextmanager
def serving_sink() -> Iterator[tuple[Sink, int]]:
    """A Sink listening on a free local port, for as long as the block runs."""
    handler = Sink()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    with serving_sink() as served:
        yield served


@pytest.fixture
def mail_intake(
    store: Store, runtime: ProcessRuntime, clock: FixedClock, sink: tuple[Sink, int]
) -> Intake:
    sender = SmtpSender("127.0.0.1", sink[1], from_address="service@northwind.example")
    return Intake(store, runtime, clock=clock, senders={"email": sender}, default_region="GB")


@pytest.fixture
def inbound(mail_intake: Intake) -> Iterator[tuple[IntakeHandler, int]]:
    port = free_port()
    controller = smtp_controller(mail_intake, port=port, domains=["northwind.example"])
    controller.start()
    try:
        yield controller.handler, port
    finally:
        controller.stop()


def send(port: int, message: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message)


def wait_for(condition: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def mail(subject: str, text: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Ann Lee <ann.lee@example.com>"
    message["To"] = "service@northwind.example"
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


def test_email_starts_a_flow_is_acknowledged_and_a_reply_attaches_to_the_case(
    mail_intake: Intake, inbound: tuple[IntakeHandler, int], sink: tuple[Sink, int]
) -> None:
    handler, port = inbound
    mailbox, _ = sink
    first = mail("No internet", "Since this morning my internet is down.", Message_ID="<a1@ex.com>")
    send(port, first)
    wait_for(lambda: len(mailbox.messages) == 1 and len(handler.results) == 1)
    [started] = handler.results
    assert started.action == "started" and started.review_required  # unknown sender
    assert started.recognition is not None and started.recognition.reason == "no-internet"
    ack = mailbox.messages[0]
    assert ack["To"] == "ann.lee@example.com" and ack["In-Reply-To"] == "<a1@ex.com>"
    assert started.case_reference in str(ack["Subject"])
    assert started.case_reference in ack.get_content()
    reply = mail(
        str(ack["Subject"]),
        "It is still down, the router light is red.",
        In_Reply_To=str(ack["Message-ID"]),
        Message_ID="<a2@ex.com>",
    )
    send(port, reply)
    wait_for(lambda: len(handler.results) == 2)
    attached = handler.results[1]
    assert attached.action == "attached" and attached.case_id == started.case_id
    assert attached.customer_id == started.customer_id


def test_recipient_outside_the_served_domains_is_refused(
    inbound: tuple[IntakeHandler, int],
) -> None:
    _, port = inbound
    message = mail("hi", "hello")
    message.replace_header("To", "someone@elsewhere.example")
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(port, message)


def test_malformed_mime_is_accepted_then_dead_lettered_with_the_reason(
    mail_intake: Intake, inbound: tuple[IntakeHandler, int]
) -> None:
    handler, port = inbound
    raw = (
        b"From: ann.lee@example.com\r\nTo: service@northwind.example\r\nSubject: x\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\nno boundary here\r\n"
    )
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.sendmail("ann.lee@example.com", ["service@northwind.example"], raw)
    wait_for(lambda: len(handler.results) == 1)
    assert handler.results[0].action == "failed"
    [letter] = mail_intake.dead_letters()
    assert "malformed MIME" in (letter.error or "")


def test_bounces_and_auto_replies_are_no_contacts(
    mail_intake: Intake, inbound: tuple[IntakeHandler, int], sink: tuple[Sink, int]
) -> None:
    handler, port = inbound
    mailbox, _ = sink
    send(port, mail("No internet", "My internet is down.", Message_ID="<b1@ex.com>"))
    wait_for(lambda: len(mailbox.messages) == 1 and len(handler.results) == 1)
    ack_id = str(mailbox.messages[0]["Message-ID"])
    away = mail("Out of office: Re: No internet", "Back on Monday.", Auto_Submitted="auto-replied")
    send(port, away)
    bounce = (
        "From: MAILER-DAEMON@mx.example.com\r\nTo: service@northwind.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
        "--r\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n"
        "--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        "Final-Recipient: rfc822; ann.lee@example.com\r\nAction: failed\r\nStatus: 5.2.2\r\n"
        "Diagnostic-Code: smtp; 552 mailbox full\r\n\r\n"
        f"--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {ack_id}\r\n\r\n--r--\r\n"
    )
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.sendmail("", ["service@northwind.example"], bounce.encode())
    outbound = mail_intake.case_contacts(str(handler.results[0].case_id))
    sent = next(c for c in outbound if c.direction == "out")
    wait_for(lambda: (mail_intake.get(sent.id).details.get("delivery") or {}).get("status"))
    delivery = mail_intake.get(sent.id).details["delivery"]
    assert delivery["status"] == "bounced" and "mailbox full" in delivery["error"]
    assert len(handler.results) == 1  # neither the auto-reply nor the bounce is a contact
    assert [c.direction for c in mail_intake.case_contacts(str(handler.results[0].case_id))] == [
        "in",
        "out",
    ]
