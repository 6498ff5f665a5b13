"""The demo outbox (flowdesk.demo.outbox): `serve` with the demo starts it unless senders are
configured, and the senders the settings then build (cases.notifier.senders_from, the same as
the case page and the worker use) deliver to a real SMTP server and HTTP receivers on
127.0.0.1, which record each message in the event log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flowdesk.cases.notifier import senders_from
from flowdesk.cases.surveys import CONSUMER as SURVEYS
from flowdesk.cases.updates import CONSUMER as UPDATES
from flowdesk.channels.outbound import OutboundMessage
from flowdesk.cli.demo import start_demo_outbox
from flowdesk.core.events import NewEvent
from flowdesk.settings import Settings
from flowdesk.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'outbox.db'}")
    opened.upgrade()
    try:
        yield opened
    finally:
        opened.close()


def test_configured_senders_or_the_setting_keep_it_off(store: Store) -> None:
    for settings in (
        Settings(smtp_host="mail.example.com"),
        Settings(notify_webhooks={"sms": "https://sms.example.com/send"}),
        Settings(demo_outbox=False),
    ):
        assert start_demo_outbox(settings, store) == (settings, None)


def test_replies_and_notifications_reach_the_local_servers(store: Store) -> None:
    with store.unit_of_work() as uow:  # history from before the outbox: not announced later
        closed = {"reference": "C-0", "reason": None, "process_key": None, "instance_id": None}
        uow.append(NewEvent("case.closed", datetime.now(UTC), {**closed, "outcome": "completed"}))
    settings, outbox = start_demo_outbox(Settings(), store)
    assert outbox is not None
    try:
        assert settings.smtp_host == "127.0.0.1" and settings.smtp_port == outbox.smtp_port
        assert set(settings.notify_webhooks) >= {"sms", "chat"}
        assert all(u.startswith("http://127.0.0.1:") for u in settings.notify_webhooks.values())
        head = store.events.head()
        assert store.events.position(UPDATES) == head and store.events.position(SURVEYS) == head

        senders = senders_from(settings)
        senders["email"].send(
            OutboundMessage("email", "ann@example.com", "Fixed.", subject="Re: [FD-7K3Q9] Bill")
        )
        senders["sms"].send(OutboundMessage("sms", "+447946000001", "Fixed by SMS."))
        received = store.events.where(type="demo.outbox.received")
        got = {(e.channel, e.data["to"]): e.data for e in received}
        assert got[("email", "ann@example.com")]["text"].strip() == "Fixed."
        assert got[("email", "ann@example.com")]["reference"] == "FD-7K3Q9"
        assert got[("email", "ann@example.com")]["subject"] == "Re: [FD-7K3Q9] Bill"
        assert got[("sms", "+447946000001")]["text"] == "Fixed by SMS."
    finally:
        outbox.stop()
