"""Notifications: preferred channel, consent, quiet hours in the customer's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

from flowdesk.channels.notify import notify, quiet_until, send_due
from flowdesk.channels.outbound import RecordingSender
from flowdesk.core.clock import FixedClock
from flowdesk.customers.service import create_customer, set_consent, set_preferences
from flowdesk.customers.views import Preferences
from flowdesk.store import Store


def _customer(store: Store, clock: FixedClock, **preferences: str) -> str:
    with store.unit_of_work() as uow:
        created = create_customer(
            uow=uow,
            clock=clock,
            identities=[("email", "ann@example.com"), ("phone", "+447911123456")],
        )
        if preferences:
            set_preferences(uow=uow, clock=clock, customer_id=created.id, preferences=preferences)
    return created.id


def test_preferred_channel_is_used(store: Store, clock: FixedClock) -> None:
    sms = RecordingSender()
    email = RecordingSender()
    cid = _customer(store, clock, channel="sms")
    sent = notify(store, clock, cid, "Engineer booked", senders={"sms": sms, "email": email})
    assert (sent.status, sent.channel, sent.to) == ("sent", "sms", "+447911123456")
    assert [m.text for m in sms.sent] == ["Engineer booked"] and email.sent == []


def test_withdrawn_consent_falls_back_to_another_channel(store: Store, clock: FixedClock) -> None:
    sms = RecordingSender()
    email = RecordingSender()
    cid = _customer(store, clock, channel="sms")
    with store.unit_of_work() as uow:
        set_consent(uow=uow, clock=clock, customer_id=cid, channel="sms", granted=False)
    sent = notify(store, clock, cid, "hi", senders={"sms": sms, "email": email})
    assert sent.channel == "email" and sms.sent == []
    with store.unit_of_work() as uow:
        set_consent(uow=uow, clock=clock, customer_id=cid, channel="email", granted=False)
    refused = notify(store, clock, cid, "hi", senders={"sms": sms, "email": email})
    assert refused.status == "refused" and "sms: no consent" in (refused.reason or "")


def test_quiet_hours_defer_until_they_end_then_send_due_sends(store: Store) -> None:
    clock = FixedClock(datetime(2026, 3, 2, 22, 30, tzinfo=UTC))  # 23:30 in Berlin
    cid = _customer(
        store,
        clock,
        channel="email",
        quiet_start="22:00",
        quiet_end="07:30",
        timezone="Europe/Berlin",
    )
    email = RecordingSender()
    deferred = notify(store, clock, cid, "Your case moved on", senders={"email": email})
    assert deferred.status == "deferred" and email.sent == []
    assert deferred.send_at == datetime(2026, 3, 3, 6, 30, tzinfo=UTC)
    assert send_due(store, clock, senders={"email": email}) == 0
    clock.advance(hours=8)
    assert send_due(store, clock, senders={"email": email}) == 1
    assert [m.text for m in email.sent] == ["Your case moved on"]
    assert send_due(store, clock, senders={"email": email}) == 0


def test_quiet_hours_window_same_day() -> None:
    prefs = Preferences("c", None, None, "12:00", "14:00", "UTC")
    assert quiet_until(prefs, datetime(2026, 1, 1, 13, 0, tzinfo=UTC)) == datetime(
        2026, 1, 1, 14, 0, tzinfo=UTC
    )
    assert quiet_until(prefs, datetime(2026, 1, 1, 14, 0, tzinfo=UTC)) is None
