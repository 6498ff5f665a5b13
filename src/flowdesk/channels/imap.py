"""Customers' email from IMAP mailboxes, run by `flowdesk worker` (docs/channels.md).

Each message is taken exactly once: it gets the keyword `$FlowdeskTaken` after its raw bytes
are stored and processed, and the search asks only for messages without it (so people reading
the same mailbox, who mark mail seen, do not hide it from Flowdesk). A crash between storing and
flagging fetches the message again; its Message-ID, already on a contact, then makes no second
one. Bounces are noted on the outbound message that bounced (its delivery becomes `bounced`),
auto-replies are recognised and skipped: neither is a customer's contact. Attachments stay in
the stored message and are listed on the contact; threading (References, In-Reply-To and the
case reference in the subject) is intake's. Where the server has IDLE the watcher waits in it,
else it polls.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from typing import Any

from imapclient import IMAPClient  # type: ignore[import-untyped]
from imapclient.exceptions import IMAPClientError  # type: ignore[import-untyped]

from flowdesk.channels.email_in import message_ids, note_automatic
from flowdesk.contacts.intake import Intake, IntakeResult
from flowdesk.logs import get_logger

TAKEN = "$FlowdeskTaken"
log = get_logger("flowdesk.imap")


@dataclass(frozen=True, slots=True)
class ImapSettings:
    host: str
    port: int = 993
    username: str = ""
    password: str = ""
    folder: str = "INBOX"
    ssl: bool = True
    timeout: float = 30.0
    name: str = "inbox"
    idle_s: float = 300.0
    poll_s: float = 60.0

    @classmethod
    def of(cls, mailbox: Any) -> ImapSettings:
        """From a settings.ImapMailbox."""
        return cls(
            host=mailbox.host,
            port=mailbox.port,
            username=mailbox.username,
            password=mailbox.password.get_secret_value(),
            folder=mailbox.folder,
            ssl=mailbox.ssl,
            timeout=mailbox.timeout_s,
            name=mailbox.name,
            idle_s=mailbox.idle_s,
            poll_s=mailbox.poll_s,
        )


@dataclass
class PollReport:
    contacts: list[IntakeResult] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)  # Message-IDs already on a contact
    bounces: list[str | None] = field(default_factory=list)  # Message-IDs that bounced
    auto_replies: int = 0

    @property
    def total(self) -> int:
        return len(self.contacts) + len(self.repeated) + len(self.bounces) + self.auto_replies


def _message_id(raw: bytes) -> str | None:
    try:
        headers = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
        found = message_ids(str(headers.get("Message-ID", "") or ""))
    except Exception:  # a broken header: intake names the defect
        return None
    return found[0] if found else None


def take_one(raw: bytes, intake: Intake, report: PollReport) -> None:
    """One message: a bounce or auto-reply is recognised, a repeat skipped, the rest a contact."""
    auto = note_automatic(raw, intake.store, intake.clock)
    if auto is not None and auto.kind == "bounce":
        report.bounces.append(auto.original)
        return
    if auto is not None:
        report.auto_replies += 1
        return
    message_id = _message_id(raw)
    if message_id and intake.known_message("email", message_id) is not None:
        report.repeated.append(message_id)
        return
    contact_id = intake.receive("email", raw, content_type="message/rfc822")
    report.contacts.append(intake.process(contact_id))


def take_new(client: Any, intake: Intake, *, limit: int = 100) -> PollReport:
    """Every message of the selected folder without the taken keyword (at most `limit`)."""
    report = PollReport()
    for uid in list(client.search(["UNKEYWORD", TAKEN]))[:limit]:
        fetched: dict[Any, Any] = client.fetch([uid], ["BODY.PEEK[]"])
        raw = fetched.get(uid, {}).get(b"BODY[]")
        if isinstance(raw, bytes):
            take_one(raw, intake, report)
        client.add_flags([uid], [TAKEN])
    return report


def _connect(settings: ImapSettings) -> Any:
    client = IMAPClient(
        settings.host, port=settings.port, ssl=settings.ssl, timeout=settings.timeout
    )
    client.login(settings.username, settings.password)
    client.select_folder(settings.folder)
    return client


def poll(settings: ImapSettings, intake: Intake, *, limit: int = 100) -> PollReport:
    """One poll of a mailbox: what its new messages made."""
    client = _connect(settings)
    try:
        return take_new(client, intake, limit=limit)
    finally:
        client.logout()


def watch(settings: ImapSettings, intake: Intake, stop: threading.Event) -> None:
    """Take new mail until `stop` is set: IDLE where the server has it, else poll; a lost
    connection is opened again after a growing pause (1 s doubling to 5 min)."""
    pause = 1.0
    while not stop.is_set():
        try:
            client = _connect(settings)
            try:
                idle = b"IDLE" in client.capabilities()
                pause = 1.0
                while not stop.is_set():
                    report = take_new(client, intake)
                    if report.total:
                        log.info(
                            "mail taken",
                            mailbox=settings.name,
                            contacts=len(report.contacts),
                            repeated=len(report.repeated),
                            bounces=len(report.bounces),
                            auto_replies=report.auto_replies,
                        )
                    if idle:
                        client.idle()
                        try:
                            client.idle_check(timeout=settings.idle_s)
                        finally:
                            client.idle_done()
                    else:
                        stop.wait(settings.poll_s)
            finally:
                with contextlib.suppress(OSError, IMAPClientError):
                    client.logout()
        except Exception as error:  # the server, the network or a store error: retry later
            log.warning(
                "mailbox unavailable; retrying",
                mailbox=settings.name,
                error=str(error),
                retry_s=pause,
            )
            stop.wait(pause)
            pause = min(pause * 2, 300.0)


def start_watchers(mailboxes: list[Any], intake: Intake) -> threading.Event:
    """One daemon thread per mailbox; set the returned event to stop them."""
    stop = threading.Event()
    for mailbox in mailboxes:
        settings = ImapSettings.of(mailbox)
        threading.Thread(
            target=watch, args=(settings, intake, stop), name=f"imap-{settings.name}", daemon=True
        ).start()
    return stop
