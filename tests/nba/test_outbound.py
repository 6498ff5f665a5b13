# ruff: noqa: F811
"""Outbound case updates carry the customer's next best action for their channel (the email
or SMS treatment), recorded as presented on that channel."""

from __future__ import annotations

from tests.cases.test_update_renditions import _complete_capture, _refund_case
from tests.contacts.conftest import intake, runtime, sender  # noqa: F401

from flowdesk.cases.updates import OFFER_SEPARATOR, notify_case_updates
from flowdesk.channels.outbound import RecordingSender
from flowdesk.contacts.intake import Intake
from flowdesk.core.clock import FixedClock
from flowdesk.nba.models import nba_decisions
from flowdesk.nba.service import outbound_offer
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store


def test_the_email_update_carries_the_next_best_actions_email_text(
    store: Store, clock: FixedClock, intake: Intake, runtime: ProcessRuntime
) -> None:
    mailbox = RecordingSender()
    offer = outbound_offer(store, clock)
    customer, ref, instance = _refund_case(store, clock, intake, runtime, "otto@example.com")
    assert notify_case_updates(store, clock, senders={"email": mailbox}, offer=offer) == []
    _complete_capture(runtime, instance)
    [update] = notify_case_updates(store, clock, senders={"email": mailbox}, offer=offer)
    assert update.channel == "email"
    text = mailbox.sent[-1].text
    status, extra = text.split(OFFER_SEPARATOR)
    assert status == f"Your case {ref}: Your refund of 75 EUR has been approved and is being paid."
    # the demo's service action for a new customer: the app (outage-restoration/actions)
    assert extra == "Outages, bills and moves: the Northwind app has it all."
    with store.reading() as conn:
        row = conn.execute(
            nba_decisions.select().where(nba_decisions.c.customer_id == customer)
        ).first()
    assert row is not None and row.channel == "email" and row.actor == "notifications"
    # nothing new in the log: nothing more is sent
    assert notify_case_updates(store, clock, senders={"email": mailbox}, offer=offer) == []
