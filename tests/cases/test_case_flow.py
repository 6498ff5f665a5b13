"""A case through its flow: status updates notified to the customer, and the customer's reply
(with the case reference) correlated into the flow that waits for it."""

from __future__ import annotations

import json

from flowdesk.cases.updates import notify_case_updates
from flowdesk.channels.outbound import RecordingSender
from flowdesk.contacts.intake import Intake
from flowdesk.core.clock import FixedClock
from flowdesk.customers.service import create_customer
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store


def _open_item(runtime: ProcessRuntime, instance_id: str) -> dict[str, object]:
    [item] = [w for w in runtime.work_items(instance_id=instance_id) if w["status"] == "open"]
    return item


def test_updates_are_notified_and_the_reply_is_correlated_into_the_flow(
    store: Store, clock: FixedClock, intake: Intake, runtime: ProcessRuntime
) -> None:
    with store.unit_of_work() as uow:
        create_customer(uow=uow, clock=clock, identities=[("email", "ann@example.com")])
    mailbox = RecordingSender()
    started = intake.submit(
        "web",
        json.dumps(
            {"email": "ann@example.com", "reason": "complaint", "message": "rude agent"}
        ).encode(),
    )
    instance = started.instance_id or ""
    ref = started.case_reference or ""
    assert notify_case_updates(store, clock, senders={"email": mailbox}) == []  # first step

    item = _open_item(runtime, instance)
    assert item["element_id"] == "register_complaint"
    runtime.complete_work_item(
        str(item["id"]), {"complaintCategory": "agent-behaviour", "severity": "low"}
    )
    [update] = notify_case_updates(store, clock, senders={"email": mailbox})
    assert update.status == "sent" and update.to == "ann@example.com"
    assert mailbox.sent[-1].text == f"Your case {ref}: We are working on your complaint."
    assert notify_case_updates(store, clock, senders={"email": mailbox}) == []  # nothing new

    runtime.complete_work_item(str(_open_item(runtime, instance)["id"]), {})
    propose = _open_item(runtime, instance)
    assert propose["element_id"] == "propose_resolution"
    runtime.complete_work_item(str(propose["id"]), {})
    waiting = runtime.instance(instance)
    assert any(s.name == "complaint-reply" and s.key == ref for s in waiting.subs.values())

    reply = intake.submit(
        "web",
        json.dumps({"email": "ann@example.com", "message": f"{ref}: no, not good enough"}).encode(),
    )
    assert reply.action == "attached" and reply.case_id == started.case_id
    after = runtime.instance(instance)
    assert not any(s.name == "complaint-reply" for s in after.subs.values())
    assert after.vars["lastContactText"] == f"{ref}: no, not good enough"
    assert after.vars["lastContactId"] == reply.contact_id
