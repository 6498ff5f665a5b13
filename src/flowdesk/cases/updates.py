"""Tell customers when their case moves on: an event-log consumer that notifies the case's
customer (preferred channel, consent, quiet hours: `flowdesk.channels.notify`) when the flow
reaches a new step with a customer-facing status text, and when the case closes.

The text is the step's own rendition for the channel (experience/renditions.py `as_text`): the
email has a subject, the status text and the step's questions for the customer with how to
answer them on the status page; the SMS says the same in one short message.

The first step of a new case is not announced: the acknowledgement with the reference already
told the customer. A text equal to the last one sent for the case is not sent again.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from sqlalchemy import select

from flowdesk.cases import service as cases
from flowdesk.cases.models import cases as cases_table
from flowdesk.channels.notify import Notification, notify
from flowdesk.channels.outbound import Sender
from flowdesk.contacts.models import contacts
from flowdesk.core.clock import Clock
from flowdesk.core.errors import NotFoundError
from flowdesk.core.event_types import EventType
from flowdesk.core.events import StoredEvent
from flowdesk.experience.renditions import as_text, customer_form
from flowdesk.experience.selfservice import OpenStep, open_steps
from flowdesk.store import Store
from flowdesk.store.tables import events

CONSUMER = "case-notifications"
SUBJECT = "Update on your case {reference}"


def _last_update(store: Store, case_id: str, subject: str) -> tuple[str, str] | None:
    """(channel, text) of the last update sent for the case."""
    with store.reading() as conn:
        row = conn.execute(
            select(contacts.c.channel, contacts.c.text)
            .where(
                contacts.c.case_id == case_id,
                contacts.c.direction == "out",
                contacts.c.subject == subject,
            )
            .order_by(contacts.c.received_at.desc(), contacts.c.id.desc())
            .limit(1)
        ).first()
    return None if row is None else (str(row.channel), str(row.text))


def _case_of_instance(store: Store, instance_id: str) -> cases.Case | None:
    with store.reading() as conn:
        case_id = conn.execute(
            select(cases_table.c.id).where(cases_table.c.instance_id == instance_id)
        ).scalar()
        return cases.get_case(conn, case_id) if case_id else None


def _earlier_step(store: Store, event: StoredEvent) -> bool:
    """Whether the flow opened a step before this one (one indexed lookup, not its history)."""
    e = events.c
    with store.reading() as conn:
        return (
            conn.execute(
                select(e.seq)
                .where(
                    e.process_instance_id == event.process_instance_id,
                    e.type == EventType.WORK_ITEM_CREATED,
                    e.seq < event.seq,
                )
                .limit(1)
            ).first()
            is not None
        )


def _step(store: Store, status: cases.CaseStatus, case: cases.Case) -> OpenStep | None:
    """The open step the update tells about: the one asking the customer something, else the
    first with a status text; None for a closed case or one with no such step."""
    if status.status != "open" or case.instance_id is None:
        return None
    try:
        steps = [s for s in open_steps(store, case.instance_id) if s.task.status]
    except NotFoundError:
        return None
    asking = [s for s in steps if customer_form(s.task)]
    return next(iter(asking or steps), None)


def _text(step: OpenStep | None, status: cases.CaseStatus, channel: str) -> str:
    """The update for a channel: the step's rendition, or the case status line without one."""
    if step is None:
        return status.message()
    return as_text(step.task, step.variables, channel, reference=status.reference)[1]


def _with_subject(
    subject: str, render: Callable[[str], str], channel: str
) -> tuple[str | None, str]:
    return subject, render(channel)


#: Between an update and the offer appended to it (the sent-already check ignores the offer).
OFFER_SEPARATOR = "\n\n-- \n"
#: (customer id, channel) -> a line to add to the update (the next best action's treatment).
Offer = Callable[[str, str], "str | None"]


def _with_offer(
    subject: str, render: Callable[[str], str], offer: Offer, customer_id: str, channel: str
) -> tuple[str | None, str]:
    text = render(channel)
    extra = offer(customer_id, channel)
    return subject, f"{text}{OFFER_SEPARATOR}{extra}" if extra else text


def notify_case_updates(
    store: Store,
    clock: Clock,
    *,
    senders: dict[str, Sender],
    consumer: str = CONSUMER,
    limit: int = 200,
    offer: Offer | None = None,
) -> list[Notification]:
    """Process the next events of the log; returns the notifications made. `offer` adds a
    line per channel to each update (the worker passes the next best action's treatment)."""
    log = store.events
    log.register(consumer)
    made: list[Notification] = []
    window = log.read_types(
        consumer, (EventType.WORK_ITEM_CREATED, EventType.PROCESS_COMPLETED), limit
    )
    for event in window.events:
        if event.process_instance_id is None:
            continue
        case = _case_of_instance(store, event.process_instance_id)
        if case is None:
            continue
        if event.type == EventType.WORK_ITEM_CREATED and not _earlier_step(store, event):
            continue  # the first step: the acknowledgement said it
        status = cases.case_status(store, case, clock.now())
        step = _step(store, status, case)
        subject = SUBJECT.format(reference=case.reference)

        render = partial(_text, step, status)
        last = _last_update(store, case.id, subject)
        if last is not None and last[1].split(OFFER_SEPARATOR, 1)[0] == render(last[0]):
            continue
        made.append(
            notify(
                store,
                clock,
                case.customer_id,
                render("email"),
                senders=senders,
                subject=subject,
                case_id=case.id,
                for_channel=partial(_with_subject, subject, render)
                if offer is None
                else partial(_with_offer, subject, render, offer, case.customer_id),
            )
        )
    if window.position is not None:
        log.ack(consumer, window.position)
    return made
