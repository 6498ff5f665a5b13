"""Contacts waiting for a first answer, in the one queue.

A contact whose reason intake could not decide (`contact.triage_required`) is work like any
other: the routing consumer queues it in the front-office triage queue with the same skills,
capacity, priority and a first-response SLA clock, so an agent pulls or is offered it as the
next best work item. When someone decides its reason (`Intake.assign_reason`: intake then
appends `contact.recognised` or `case.contact_attached`), or it fails, the entry leaves the
queue on the next routing round. Domains talk through the event log here: intake knows nothing
of routing and routing nothing of intake's tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flowdesk.core.events import StoredEvent
from flowdesk.routing.domain import Item
from flowdesk.sla import SlaPolicy

#: The step name a triage entry has for SLA lookup (a catalog policy with step "triage"
#: sets its targets) and in the queue.
STEP = "triage"

#: Contact channels -> the routing channel whose capacity the work uses.
CHANNELS = {
    "phone": "call",
    "chat": "chat",
    "sms": "chat",
    "social": "chat",
    "app": "chat",
    "email": "email",
    "web": "email",
    "letter": "email",
}

#: Events after which a contact no longer waits for triage, and the reason it left the queue.
SETTLED = {
    "contact.recognised": "triaged",
    "case.contact_attached": "triaged",
    "contact.merged_duplicate": "triaged",
    "contact.failed": "failed",
}


@dataclass(frozen=True, slots=True)
class TriageSettings:
    """Where triage work goes and how fast it must be answered when the SLA catalog has no
    policy for the step "triage" (the front office picks up a hand-over within 15 minutes in
    the demo company; the same target is the default here)."""

    department: str = "front-office"
    first_response: timedelta = timedelta(minutes=15)

    def policy(self) -> SlaPolicy:
        return SlaPolicy(name="triage", step=STEP, first_response=self.first_response)


def triage_item(event: StoredEvent, settings: TriageSettings) -> Item:
    """The queue entry of a contact that needs triage (its id is the contact id)."""
    if event.contact_id is None:
        raise ValueError(f"event {event.seq} ({event.type}) names no contact")
    channel = event.channel or "web"
    return Item(
        event.contact_id,
        CHANNELS.get(channel, "task"),
        event.time,
        department=settings.department,
        candidate_groups=frozenset({settings.department}),
        attributes={
            "contact channel": channel,
            "customer": event.customer_id,
            "candidates": event.data.get("candidates") or [],
        },
    )
