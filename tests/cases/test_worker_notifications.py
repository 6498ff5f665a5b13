"""`flowdesk worker` sends customer notifications on its own: case updates as the flow moves on,
and messages deferred by quiet hours once they are over, through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from tests.channels.test_email_smtp import Sink, sink
from typer.testing import CliRunner

from flowdesk.channels.notify import notify
from flowdesk.channels.outbound import RecordingSender
from flowdesk.cli.main import app
from flowdesk.contacts.intake import Intake
from flowdesk.contacts.models import contacts
from flowdesk.core.clock import FixedClock
from flowdesk.customers.service import create_customer, set_preferences
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

__all__ = ["sink"]


def run_worker(database_url: str, smtp_port: int | None) -> str:
    env = {"FLOWDESK_SMTP_HOST": "127.0.0.1", "FLOWDESK_SMTP_PORT": str(smtp_port)}
    result = CliRunner().invoke(
        app,
        ["worker", "--until-idle", "--poll", "0.05", "--database-url", database_url],
        env=env if smtp_port else {"FLOWDESK_SMTP_HOST": ""},
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_the_worker_sends_case_updates_and_deferred_notifications_by_smtp(
    store: Store,
    database_url: str,
    clock: FixedClock,
    intake: Intake,
    runtime: ProcessRuntime,
    sink: tuple[Sink, int],
) -> None:
    mailbox, port = sink
    with store.unit_of_work() as uow:
        create_customer(uow=uow, clock=clock, identities=[("email", "ann@example.com")])
        bob = create_customer(uow=uow, clock=clock, identities=[("email", "bob@example.com")])
    # Bob's quiet hours held a message back yesterday; they ended an hour after it was made.
    yesterday = FixedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(days=1))
    hour = yesterday.now().hour
    with store.unit_of_work() as uow:
        set_preferences(
            uow=uow,
            clock=clock,
            customer_id=bob.id,
            preferences={
                "quiet_start": f"{(hour - 1) % 24:02d}:00",
                "quiet_end": f"{(hour + 1) % 24:02d}:00",
                "timezone": "UTC",
            },
        )
    held = notify(
        store,
        yesterday,
        bob.id,
        "Your engineer comes at 10:00.",
        senders={"email": RecordingSender()},
    )
    assert held.status == "deferred"

    started = intake.submit(
        "web",
        json.dumps({"email": "ann@example.com", "reason": "complaint", "message": "rude"}).encode(),
    )
    [item] = runtime.work_items(instance_id=started.instance_id)
    runtime.complete_work_item(
        str(item["id"]), {"complaintCategory": "agent-behaviour", "severity": "low"}
    )

    run_worker(database_url, None)  # no SMTP configured: nothing consumed, nothing lost
    assert mailbox.messages == []

    run_worker(database_url, port)
    by_recipient = {m["To"]: m for m in mailbox.messages}
    assert sorted(by_recipient) == ["ann@example.com", "bob@example.com"]
    update = by_recipient["ann@example.com"]
    assert update["Subject"] == f"Update on your case {started.case_reference}"
    content = update.get_content().strip()
    assert content.split("-- ")[0].strip() == (
        f"Your case {started.case_reference}: We are working on your complaint."
    )
    assert "Northwind app" in content  # the next best action's email text (docs/decisions.md)
    assert by_recipient["bob@example.com"].get_content().strip() == "Your engineer comes at 10:00."
    with store.reading() as conn:
        status = conn.execute(
            select(contacts.c.status).where(contacts.c.id == held.contact_id)
        ).scalar_one()
    assert status == "sent"

    run_worker(database_url, port)  # a second run has nothing new to say
    assert len(mailbox.messages) == 2


def test_the_worker_sends_the_survey_by_smtp_and_survives_an_smtp_outage(
    store: Store,
    database_url: str,
    intake: Intake,
    runtime: ProcessRuntime,
    sink: tuple[Sink, int],
) -> None:
    from tests.channels.test_email_smtp import free_port

    from flowdesk.cases.surveys import subject_for

    mailbox, port = sink
    started = intake.submit(
        "web",
        json.dumps({"email": "cy@example.com", "reason": "complaint", "message": "rude"}).encode(),
    )
    assert started.case_reference and started.instance_id
    runtime.cancel(started.instance_id, "resolved on the phone")  # the flow ends: case closes

    output = run_worker(database_url, free_port())  # SMTP is down: the worker carries on
    assert "ran" in output
    assert not [e for e in store.events.after(0, 10_000) if e.type == "survey.sent"]

    run_worker(database_url, port)  # back up: the survey goes out once
    surveys = [m for m in mailbox.messages if m["Subject"] == subject_for(started.case_reference)]
    assert len(surveys) == 1 and surveys[0]["To"] == "cy@example.com"
    sent = [e for e in store.events.after(0, 10_000) if e.type == "survey.sent"]
    assert len(sent) == 1 and sent[0].data["delivered"] is True
