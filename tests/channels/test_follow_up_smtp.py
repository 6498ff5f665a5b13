"""Follow-ups by real email (aiosmtpd inbound server, replies to a local sink): a new message, not
a reply in the thread, that quotes the case reference in lower case reaches the case's flow as
the message it waits for; one to a closed case is handled by the follow-up policy; a stranger
who quotes someone's reference gets nothing and waits in triage, flagged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.channels.test_email_smtp import Sink, free_port, mail, send, serving_sink, wait_for

from flowdesk.cases import service as cases
from flowdesk.channels.outbound import SmtpSender
from flowdesk.channels.smtp_server import IntakeHandler, smtp_controller
from flowdesk.contacts.intake import FLAG_FOREIGN_REFERENCE, Intake, IntakeResult
from flowdesk.core.clock import FixedClock
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

Served = tuple[IntakeHandler, int, Sink]


@pytest.fixture
def served(store: Store, runtime: ProcessRuntime, clock: FixedClock) -> Iterator[Served]:
    with serving_sink() as (mailbox, sink_port):
        sender = SmtpSender("127.0.0.1", sink_port, from_address="service@northwind.example")
        intake = Intake(store, runtime, clock=clock, senders={"email": sender})
        port = free_port()
        controller = smtp_controller(intake, port=port, domains=["northwind.example"])
        controller.start()
        try:
            yield controller.handler, port, mailbox
        finally:
            controller.stop()


def _mail_in(served: Served, subject: str, text: str, sender: str = "") -> IntakeResult:
    handler, port, _ = served
    message = mail(subject, text)
    if sender:
        message.replace_header("From", sender)
    count = len(handler.results)
    send(port, message)
    wait_for(lambda: len(handler.results) == count + 1)
    return handler.results[-1]


def test_a_new_email_quoting_the_reference_in_lower_case_reaches_the_waiting_flow(
    served: Served, runtime: ProcessRuntime
) -> None:
    started = _mail_in(served, "Engineer", "I want to make a complaint about the engineer.")
    assert started.action == "started" and started.instance_id and started.case_reference
    instance = started.instance_id
    for answers in (
        {"complaintCategory": "billing", "severity": "low"},
        {"rootCause": "tariff", "goodwill": False},
        {"proposalChannel": "email"},
    ):
        (item,) = runtime.work_items(instance_id=instance)
        runtime.complete_work_item(item["id"], answers)
    assert runtime.work_items(instance_id=instance) == []  # waiting for the customer's reply

    ref = started.case_reference.lower()
    answer = _mail_in(served, "your proposal", f"{ref}: yes, that works for me.")
    assert answer.action == "attached" and answer.case_id == started.case_id
    state = runtime.instance(instance)
    assert state.vars["lastContactText"].startswith(ref)
    done = {e.element_id for e in runtime.history(instance) if e.type == "element.completed"}
    assert "customer_replied" in done


def test_an_email_about_a_closed_case_follows_the_policy(
    served: Served, store: Store, runtime: ProcessRuntime, clock: FixedClock
) -> None:
    _, _, mailbox = served
    first = _mail_in(served, "Down", "My internet is down since this morning.")
    assert first.action == "started" and first.instance_id and first.case_reference
    runtime.cancel(first.instance_id, "resolved by phone")
    clock.advance(days=3)
    again = _mail_in(served, "again", f"{first.case_reference.lower()} it happened again")
    assert again.action == "reopened" and again.case_id == first.case_id
    wait_for(lambda: any(first.case_reference in str(m["Subject"]) for m in mailbox.messages[1:]))
    assert again.instance_id is not None
    runtime.cancel(again.instance_id, "resolved")
    clock.advance(days=15)
    later = _mail_in(served, "still", f"Same issue as {first.case_reference}")
    assert later.action == "started" and later.case_id != first.case_id
    with store.reading() as conn:
        assert cases.linked_cases(conn, later.case_id or "") == [{"follows": first.case_reference}]


def test_a_stranger_quoting_a_reference_by_email_waits_in_triage_flagged(
    served: Served, store: Store
) -> None:
    _, _, mailbox = served
    started = _mail_in(served, "Down", "My internet is down since this morning.")
    assert started.case_reference
    wait_for(lambda: len(mailbox.messages) == 1)  # Ann's acknowledgement
    eve = "Eve <eve@example.org>"
    probe = _mail_in(served, started.case_reference.lower(), "what is going on", sender=eve)
    assert probe.action == "triage" and probe.case_id is None
    contact = Intake(store).get(probe.contact_id)
    assert contact.status == "triage" and contact.details["flags"] == [FLAG_FOREIGN_REFERENCE]
    assert len(mailbox.messages) == 1  # nothing sent to the stranger
    with store.reading() as conn:
        case = cases.get_case(conn, started.case_id or "")
    assert case is not None and case.status == "open"
    assert probe.contact_id not in [c.id for c in Intake(store).case_contacts(case.id)]
