"""Email from a real IMAP server (Dovecot) through `flowdesk worker`: each message once (the
taken keyword, then the Message-ID after a lost flag), attachments kept, threading by
In-Reply-To and by the case reference in the subject, a bounce noted on the message that
bounced, an auto-reply skipped, and new mail taken at once while the watcher IDLEs."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from imapclient import IMAPClient  # type: ignore[import-untyped]
from sqlalchemy import select
from tests.channels.dovecot import Imap, dovecot, needs_dovecot
from typer.testing import CliRunner

from flowdesk.cases.models import cases as case_table
from flowdesk.channels.imap import TAKEN, ImapSettings, watch
from flowdesk.cli.main import app
from flowdesk.contacts.intake import Intake
from flowdesk.contacts.models import contacts
from flowdesk.contacts.outbox import record_outbound
from flowdesk.demo import COMPANY_DIR
from flowdesk.experience.service import deploy_bundle
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

pytestmark = needs_dovecot
CUSTOMER = "Ada Lovelace <ada@example.org>"


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    """SQLite only: the mail path adds no SQL of its own worth a second backend."""
    s = Store.open(sqlite_url)
    s.upgrade()
    yield s
    s.close()


@pytest.fixture(scope="module")
def imap() -> Iterator[Imap]:
    with dovecot() as server:
        yield server


def _mail(subject: str, text: str, message_id: str, **headers: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = CUSTOMER
    mail["To"] = "service@northwind.example"
    mail["Subject"] = subject
    mail["Message-ID"] = message_id
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(text)
    return mail


def _bounce(original: str) -> bytes:
    """A delivery-status report (RFC 3464) as Postfix sends one."""
    report = EmailMessage()
    report["From"] = "MAILER-DAEMON@mx.example.org (Mail Delivery System)"
    report["To"] = "service@northwind.example"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Message-ID"] = "<bounce1@mx.example.org>"
    report.set_content("I'm sorry to have to inform you that your message could not be delivered.")
    report.make_mixed()
    report.set_param("report-type", "delivery-status")
    report.replace_header(
        "Content-Type", 'multipart/report; report-type="delivery-status"; boundary="b1"'
    )
    status = EmailMessage()
    status.set_content(
        "Reporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; gone@example.org\n"
        "Action: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n"
    )
    raw = report.as_bytes().decode()
    headers = f"Message-ID: {original}\nFrom: service@flowdesk.invalid\nTo: gone@example.org\n"
    body = (
        "--b1\nContent-Type: text/plain\n\nYour message could not be delivered.\n"
        "--b1\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.org\n\n"
        "Final-Recipient: rfc822; gone@example.org\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\n\n"
        f"--b1\nContent-Type: text/rfc822-headers\n\n{headers}\n--b1--\n"
    )
    head = raw.split("\n\n", 1)[0]
    return (head + "\n\n" + body).replace("\n", "\r\n").encode()


def _append(imap: Imap, *messages: bytes) -> None:
    with IMAPClient(imap.host, port=imap.port, ssl=False, timeout=10) as client:
        client.login(imap.username, imap.password)
        for raw in messages:
            client.append("INBOX", raw)


def _inbound(store: Store) -> list[Any]:
    with store.reading() as conn:
        return conn.execute(
            contacts.select()
            .where(contacts.c.direction == "in")
            .order_by(contacts.c.received_at, contacts.c.id)
        ).all()


def _worker(url: str, imap: Imap) -> None:
    mailboxes = [
        {
            "name": "service",
            "host": imap.host,
            "port": imap.port,
            "username": imap.username,
            "password": imap.password,
            "ssl": False,
        }
    ]
    env = {"FLOWDESK_IMAP_MAILBOXES": json.dumps(mailboxes), "FLOWDESK_LOAD_DEMO": "false"}
    result = CliRunner().invoke(
        app, ["worker", "--until-idle", "--database-url", url, "--no-routing"], env=env
    )
    assert result.exit_code == 0, result.output


def test_worker_takes_each_message_once_threads_and_recognises_bounces(
    imap: Imap, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'mail.db'}"
    store = Store.open(url)
    store.upgrade()
    deploy_bundle(ProcessRuntime(store), store, COMPANY_DIR / "outage-restoration")
    with store.unit_of_work() as uow:  # a reply Flowdesk sent earlier, to an address now gone
        record_outbound(
            uow.connection,
            contact_id="out-1",
            channel="email",
            to="gone@example.org",
            text="Your case is solved",
            now=datetime.now(UTC),
            raw=b"...",
            message_id="<reply1@flowdesk.invalid>",
        )
    first = _mail("Internet down", "My internet is down since this morning.", "<m1@example.org>")
    first.add_attachment(b"%PDF-1.4 router photo", "application", "pdf", filename="router.pdf")
    away = _mail("Automatic reply: Your case", "I am away until Monday.", "<ooo@example.org>")
    away["Auto-Submitted"] = "auto-replied"
    _append(imap, first.as_bytes(), away.as_bytes(), _bounce("<reply1@flowdesk.invalid>"))
    _worker(url, imap)

    rows = _inbound(store)
    assert [r.message_id for r in rows] == ["<m1@example.org>"]  # no auto-reply, no bounce
    assert rows[0].attachments[0]["name"] == "router.pdf"
    case_id = rows[0].case_id
    assert case_id is not None
    with store.reading() as conn:
        reference = conn.execute(
            select(case_table.c.reference).where(case_table.c.id == case_id)
        ).scalar()
        bounced = conn.execute(contacts.select().where(contacts.c.id == "out-1")).one()
    assert bounced.details["delivery"]["status"] == "bounced"
    assert "550 5.1.1 user unknown" in bounced.details["delivery"]["error"]

    # a reply threaded by In-Reply-To, another by the reference in its subject
    by_header = _mail("Re: Internet down", "Still down.", "<m2@example.org>")
    by_header["In-Reply-To"] = "<m1@example.org>"
    by_header["References"] = "<m1@example.org>"
    by_subject = _mail(f"More about [{reference}]", "The router blinks red.", "<m3@example.org>")
    _append(imap, by_header.as_bytes(), by_subject.as_bytes())
    _worker(url, imap)
    rows = _inbound(store)
    assert [r.message_id for r in rows] == [
        "<m1@example.org>",
        "<m2@example.org>",
        "<m3@example.org>",
    ]
    assert {r.case_id for r in rows} == {case_id}

    # exactly once: a second run takes nothing; a lost flag (a crash after storing) neither
    with IMAPClient(imap.host, port=imap.port, ssl=False, timeout=10) as client:
        client.login(imap.username, imap.password)
        client.select_folder("INBOX")
        uids = client.search(["ALL"])
        assert all(TAKEN.encode() in flags for flags in client.get_flags(uids).values())
        client.remove_flags(uids[:1], [TAKEN])
    _worker(url, imap)
    assert len(_inbound(store)) == 3
    store.close()


def test_watcher_takes_new_mail_while_idling(imap: Imap, intake: Intake, store: Store) -> None:
    settings = ImapSettings(
        host=imap.host,
        port=imap.port,
        username=imap.username,
        password=imap.password,
        ssl=False,
        idle_s=0.5,
        name="service",
    )
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(settings, intake, stop), daemon=True)
    watcher.start()
    try:
        time.sleep(0.5)
        news = _mail("Outage", "No power in my street.", "<idle1@example.org>")
        _append(imap, news.as_bytes())
        deadline = time.monotonic() + 10
        while not any(r.message_id == "<idle1@example.org>" for r in _inbound(store)):
            assert time.monotonic() < deadline, "the watcher did not take the new mail"
            time.sleep(0.2)
    finally:
        stop.set()
        watcher.join(timeout=5)
