"""Contacts waiting for a first answer: intake could not tell why the customer got in touch, so
a front-office agent decides the reason. They sit in My work beside the flows' tasks, due by the
first-response target, and next best work takes them in deadline order like any other work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flowdesk.app.context import Caller, Ops
from flowdesk.auth.roles import Permission
from flowdesk.contacts.intake import Intake
from flowdesk.routing.triage import TriageSettings

SETTINGS = TriageSettings()
SHOWN = 50


@dataclass(frozen=True, slots=True)
class Waiting:
    """A contact in triage as My work lists it."""

    id: str
    channel: str
    sender: str | None
    excerpt: str
    received_at: datetime
    due: datetime
    flags: tuple[str, ...] = ()


def triages(caller: Caller) -> bool:
    """Triage is the triage department's work (supervisors see it too)."""
    return caller.can(Permission.CONTACTS_TRIAGE) and (
        SETTINGS.department in caller.groups or caller.can(Permission.SUPERVISE)
    )


def waiting(caller: Caller, ops: Ops, limit: int = SHOWN) -> list[Waiting]:
    """The oldest contacts waiting for a first answer, for those who triage."""
    if not triages(caller):
        return []
    intake: Intake = ops.service("intake")
    out = []
    for contact in intake.triage_queue(limit=limit):
        text = " ".join((contact.subject or "", contact.text or "")).strip()
        out.append(
            Waiting(
                contact.id,
                contact.channel,
                contact.sender,
                text[:140] + ("…" if len(text) > 140 else ""),
                contact.received_at,
                contact.received_at + SETTINGS.first_response,
                tuple(contact.details.get("flags") or ()),
            )
        )
    return sorted(out, key=lambda w: (w.due, w.id))
