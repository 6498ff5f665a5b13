"""IMAP polling against a tiny in-test IMAP4rev1 responder (enough of the protocol for
IMAPClient: CAPABILITY, LOGIN, SELECT, UID SEARCH, UID FETCH, UID STORE, LOGOUT)."""

from __future__ import annotations

import re
import socketserver
import threading
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from flowdesk.channels.imap import ImapSettings, poll_once
from flowdesk.contacts.intake import Intake


class Mailbox:
    def __init__(self, messages: list[bytes]) -> None:
        self.messages = {uid: raw for uid, raw in enumerate(messages, start=1)}
        self.seen: set[int] = set()
        self.logins: list[tuple[str, str]] = []


def responder(box: Mailbox) -> type[socketserver.StreamRequestHandler]:
    class Handler(socketserver.StreamRequestHandler):
        def send(self, text: str | bytes) -> None:
            self.wfile.write(text.encode() if isinstance(text, str) else text)

        def handle(self) -> None:
            self.send("* OK IMAP4rev1 test server ready\r\n")
            while line := self.rfile.readline():
                tag, _, rest = line.decode().strip().partition(" ")
                command = rest.upper()
                if command.startswith("CAPABILITY"):
                    self.send(f"* CAPABILITY IMAP4rev1\r\n{tag} OK done\r\n")
                elif command.startswith("LOGIN"):
                    user, password = re.findall(r'"([^"]*)"|(\S+)', rest)[1:3]
                    box.logins.append((user[0] or user[1], password[0] or password[1]))
                    self.send(f"{tag} OK logged in\r\n")
                elif command.startswith("SELECT"):
                    self.send(
                        f"* {len(box.messages)} EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Seen)\r\n"
                        f"* OK [UIDVALIDITY 7] ok\r\n{tag} OK [READ-WRITE] selected\r\n"
                    )
                elif command.startswith("UID SEARCH"):
                    unseen = " ".join(str(u) for u in box.messages if u not in box.seen)
                    self.send(f"* SEARCH {unseen}\r\n{tag} OK done\r\n")
                elif command.startswith("UID FETCH"):
                    uid = int(rest.split()[2])
                    raw = box.messages[uid]
                    self.send(f"* {uid} FETCH (UID {uid} BODY[] {{{len(raw)}}}\r\n".encode())
                    self.send(raw + b")\r\n")
                    self.send(f"{tag} OK fetched\r\n")
                elif command.startswith("UID STORE"):
                    uid = int(rest.split()[2])
                    box.seen.add(uid)
                    self.send(f"* {uid} FETCH (UID {uid} FLAGS (\\Seen))\r\n{tag} OK stored\r\n")
                elif command.startswith("LOGOUT"):
                    self.send(f"* BYE\r\n{tag} OK bye\r\n")
                    return
                else:
                    self.send(f"{tag} BAD unknown command\r\n")

    return Handler


def message(n: int, text: str) -> bytes:
    email = EmailMessage()
    email["From"] = f"person{n}@example.com"
    email["To"] = "service@northwind.example"
    email["Subject"] = f"mail {n}"
    email["Message-ID"] = f"<imap{n}@example.com>"
    email.set_content(text)
    return email.as_bytes()


@pytest.fixture
def imap_box() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox(
        [message(1, "my internet is down since today"), message(2, "I want to raise a bill query")]
    )
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), responder(box))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_poll_fetches_unseen_mail_into_contacts_and_marks_it_seen(
    intake: Intake, imap_box: tuple[Mailbox, int]
) -> None:
    box, port = imap_box
    settings = ImapSettings("127.0.0.1", port, "svc", "secret", ssl=False, timeout=5)
    results = poll_once(settings, intake)
    assert box.logins == [("svc", "secret")]
    assert len(results) == 2 and box.seen == {1, 2}
    first = intake.get(results[0].contact_id)
    assert first.channel == "email" and first.message_id == "<imap1@example.com>"
    assert results[0].action == "started"  # no-internet by keyword
    assert poll_once(settings, intake) == []  # nothing unseen any more
