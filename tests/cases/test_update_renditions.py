"""Case update notifications carry the step's own rendition: the email's subject and the
status text of the step the case reached (placeholders filled), the SMS the short form."""

from __future__ import annotations

import json

from flowdesk.cases.updates import notify_case_updates
from flowdesk.channels.outbound import RecordingSender
from flowdesk.contacts.intake import Intake
from flowdesk.core.clock import FixedClock
from flowdesk.customers.registry import set_preferences
from flowdesk.customers.service import create_customer
from flowdesk.demo import COMPANY_DIR
from flowdesk.experience.service import deploy_bundle
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

REFUND = COMPANY_DIR / "refund-request"


def _refund_case(
    store: Store, clock: FixedClock, intake: Intake, runtime: ProcessRuntime, email: str
) -> tuple[str, str, str]:
    deploy_bundle(runtime, store, REFUND)
    with store.unit_of_work() as uow:
        customer = create_customer(
            uow=uow, clock=clock, identities=[("email", email), ("phone", "+447911123456")]
        )
    started = intake.submit(
        "web", json.dumps({"email": email, "reason": "refund-request", "message": "x"}).encode()
    )
    assert started.case_reference and started.instance_id
    return customer.id, started.case_reference, started.instance_id


def _complete_capture(runtime: ProcessRuntime, instance_id: str) -> None:
    [item] = runtime.work_items(instance_id=instance_id)
    assert item["element_id"] == "capture_refund"
    runtime.complete_work_item(
        str(item["id"]),
        {"identityVerified": True, "refundReason": "overpayment", "amount": 75},
    )


def test_the_email_update_is_the_next_steps_rendition(
    store: Store, clock: FixedClock, intake: Intake, runtime: ProcessRuntime
) -> None:
    mailbox = RecordingSender()
    _, ref, instance = _refund_case(store, clock, intake, runtime, "rae@example.com")
    assert notify_case_updates(store, clock, senders={"email": mailbox}) == []  # first step
    _complete_capture(runtime, instance)
    [update] = notify_case_updates(store, clock, senders={"email": mailbox})
    assert update.status == "sent" and update.channel == "email"
    message = mailbox.sent[-1]
    assert message.subject == f"Update on your case {ref}"
    assert message.text == (
        f"Your case {ref}: Your refund of 75 EUR has been approved and is being paid."
    )
    assert notify_case_updates(store, clock, senders={"email": mailbox}) == []  # sent already


def test_the_sms_update_is_the_short_rendition(
    store: Store, clock: FixedClock, intake: Intake, runtime: ProcessRuntime
) -> None:
    phone = RecordingSender()
    customer_id, ref, instance = _refund_case(store, clock, intake, runtime, "sam@example.com")
    with store.unit_of_work() as uow:
        set_preferences(
            uow=uow, clock=clock, customer_id=customer_id, preferences={"channel": "sms"}
        )
    notify_case_updates(store, clock, senders={"sms": phone})
    _complete_capture(runtime, instance)
    [update] = notify_case_updates(store, clock, senders={"sms": phone})
    assert update.channel == "sms"
    assert phone.sent[-1].text == (
        f"Case {ref}: Your refund of 75 EUR has been approved and is being paid."
    )
    assert notify_case_updates(store, clock, senders={"sms": phone}) == []
