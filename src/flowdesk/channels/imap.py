"""IMAP polling: fetch unseen messages from a mailbox and hand each one to intake, raw first.

A message is flagged \\Seen only after its raw bytes are stored, so a crash between the two
fetches it again on the next poll (intake merges the duplicate). Tested against a small IMAP
responder in tests/channels/test_imap.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from imapclient import IMAPClient  # type: ignore[import-untyped]

from flowdesk.contacts.intake import Intake, IntakeResult


@dataclass(frozen=True, slots=True)
class ImapSettings:
    host: str
    port: int = 993
    username: str = ""
    password: str = ""
    folder: str = "INBOX"
    ssl: bool = True
    timeout: float = 30.0


def poll_once(settings: ImapSettings, intake: Intake, *, limit: int = 100) -> list[IntakeResult]:
    """One poll: every unseen message (at most `limit`) becomes a contact."""
    results: list[IntakeResult] = []
    with IMAPClient(
        settings.host, port=settings.port, ssl=settings.ssl, timeout=settings.timeout
    ) as client:
        client.login(settings.username, settings.password)
        client.select_folder(settings.folder)
        uids = list(client.search(["UNSEEN"]))[:limit]
        for uid in uids:
            fetched: dict[Any, Any] = client.fetch([uid], ["BODY.PEEK[]"])
            raw = fetched.get(uid, {}).get(b"BODY[]")
            if not isinstance(raw, bytes):
                continue
            contact_id = intake.receive("email", raw, content_type="message/rfc822")
            client.add_flags([uid], [b"\\Seen"])
            results.append(intake.process(contact_id))
    return results
