"""Tell customers when their case moves on: an event-log consumer that notifies the case's
customer (preferred channel, consent, quiet hours: `flowdesk.channels.notify`) when the flow
reaches a new step with a customer-facing status text, and when the case closes.

The first step of a new case is not announced: the acknowledgement with the reference already
told the customer. A text equal to the last one sent for the case is not sent again.
"""

from __future__ import annotations

from sqlalchemy import select

from flowdesk.cases import service as cases
from flowdesk.cases.models import cases as cases_table
from flowdesk.channels.notify import Notification, notify
from flowdesk.channels.outbound import Sender
from flowdesk.contacts.models import contacts
from flowdesk.core.clock import Clock
from flowdesk.store import Store

CONSUMER = "case-notifications"
SUBJECT = "Update on your case {reference}"


def _last_update(store: Store, case_id: str, subject: str) -> str | None:
    with store.reading() as conn:
        return conn.execute(
            select(contacts.c.text)
            .where(
                contacts.c.case_id == case_id,
                contacts.c.direction == "out",
                contacts.c.subject == subject,
            )
            .order_by(contacts.c.received_at.desc(), contacts.c.id.desc())
            .limit(1)
        ).scalar()


def _case_of_instance(store: Store, instance_id: str) -> cases.Case | None:
    with store.reading() as conn:
        case_id = conn.execute(
            select(cases_table.c.id).where(cases_table.c.instance_id == instance_id)
        ).scalar()
        return cases.get_case(conn, case_id) if case_id else None


def notify_case_updates(
    store: Store,
    clock: Clock,
    *,
    senders: dict[str, Sender],
    consumer: str = CONSUMER,
    limit: int = 200,
) -> list[Notification]:
    """Process the next events of the log; returns the notifications made."""
    log = store.events
    log.register(consumer)
    made: list[Notification] = []
    batch = log.read(consumer, limit)
    for event in batch:
        if event.process_instance_id is None or event.type not in (
            "work_item.created",
            "process.completed",
        ):
            continue
        case = _case_of_instance(store, event.process_instance_id)
        if case is None:
            continue
        if event.type == "work_item.created":
            earlier = [
                e
                for e in log.where(process_instance_id=event.process_instance_id)
                if e.type == "work_item.created" and e.seq < event.seq
            ]
            if not earlier:
                continue  # the first step: the acknowledgement said it
        status = cases.case_status(store, case, clock.now())
        text = status.message()
        subject = SUBJECT.format(reference=case.reference)
        if _last_update(store, case.id, subject) == text:
            continue
        made.append(
            notify(
                store,
                clock,
                case.customer_id,
                text,
                senders=senders,
                subject=subject,
                case_id=case.id,
            )
        )
    if batch:
        log.ack(consumer, batch[-1].seq)
    return made
