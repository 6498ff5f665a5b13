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
from datetime import datetime, timedelta

from sqlalchemy import case, func, select

from flowdesk.core.event_types import EventType
from flowdesk.core.events import StoredEvent
from flowdesk.routing.domain import Item
from flowdesk.routing.models import routing_queue
from flowdesk.sla import SlaPolicy
from flowdesk.store import Store

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
    EventType.CONTACT_RECOGNISED: "triaged",
    EventType.CASE_CONTACT_ATTACHED: "triaged",
    EventType.CONTACT_MERGED_DUPLICATE: "triaged",
    EventType.CONTACT_FAILED: "failed",
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


def arrived_at(event: StoredEvent) -> datetime:
    """When the contact arrived: its SLA clock starts then, not when intake (or a replay of a
    dead letter) sent it to triage."""
    text = event.data.get("received_at")
    try:
        value = datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        value = None
    return value if value is not None and value.tzinfo and value <= event.time else event.time


def triage_item(event: StoredEvent, settings: TriageSettings) -> Item:
    """The queue entry of a contact that needs triage (its id is the contact id)."""
    if event.contact_id is None:
        raise ValueError(f"event {event.seq} ({event.type}) names no contact")
    channel = event.channel or "web"
    return Item(
        event.contact_id,
        CHANNELS.get(channel, "task"),
        arrived_at(event),
        department=settings.department,
        candidate_groups=frozenset({settings.department}),
        attributes={
            "contact channel": channel,
            "customer": event.customer_id,
            "candidates": event.data.get("candidates") or [],
            "flags": event.data.get("flags") or [],
        },
    )


@dataclass(frozen=True, slots=True)
class TriageWaiting:
    """Contacts of one department waiting for triage, for the supervisor's counts."""

    department: str
    waiting: int
    unassigned: int
    overdue: int  # past their first-response deadline
    oldest: datetime | None  # arrival of the one waiting longest


def waiting_by_department(store: Store, now: datetime) -> dict[str, TriageWaiting]:
    """Per department, the contacts in the routing queue waiting for triage (queued, offered
    or taken, not yet decided): the supervisor counts them beside the flows' open work, since
    they are work of the same people. One grouped query on the queue."""
    q = routing_queue.c
    unassigned = func.sum(case((q.status == "queued", 1), else_=0))
    overdue = func.sum(case((q.due_at < now, 1), else_=0))
    query = (
        select(q.department, func.count(), unassigned, overdue, func.min(q.enqueued_at))
        .where(q.source == "contact", q.status.in_(("queued", "offered", "assigned")))
        .group_by(q.department)
    )
    with store.reading() as conn:
        rows = conn.execute(query).all()
    out = {}
    for department, count, free, late, oldest in rows:
        name = department or TriageSettings().department
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=now.tzinfo)
        out[name] = TriageWaiting(name, int(count), int(free or 0), int(late or 0), oldest)
    return out
