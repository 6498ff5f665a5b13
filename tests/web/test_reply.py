"""Replying to the customer from the case page: the case's contacts are listed, the reply goes
out through a real SMTP server (aiosmtpd) threaded to the customer's email, is stored as an
outbound contact with the event contact.sent on the timeline; a channel without a sender, a
withdrawn consent, quiet hours and a server that is down each get a clear answer."""

from __future__ import annotations

import html
import itertools
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.channels.test_email_smtp import Sink, free_port, serving_sink, wait_for
from tests.web.conftest import csrf_of, login

from flowdesk.api.app import create_app
from flowdesk.channels.outbound import RecordingSender
from flowdesk.contacts.intake import Intake
from flowdesk.contacts.models import contacts
from flowdesk.core.clock import FixedClock
from flowdesk.customers.service import set_consent, set_preferences
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.settings import Settings
from flowdesk.store import Store

_n = itertools.count(1)


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    with serving_sink() as served:
        yield served


def mail_app(url: str, store: Store, port: int | None, clock: Any = None) -> FastAPI:
    settings = Settings(
        database_url=url,
        smtp_host="127.0.0.1" if port else None,
        smtp_port=port or 25,
        smtp_from="service@northwind.example",
    )
    return create_app(settings, store, clock)


def customer_email(store: Store, channel: str = "email") -> dict[str, Any]:
    """A complaint arriving by email (or SMS) through intake; returns ids of what it made."""
    n = next(_n)
    address = f"ann.reply{n}@example.com"
    if channel == "email":
        message = EmailMessage()
        message["From"] = f"Ann Reply <{address}>"
        message["To"] = "service@northwind.example"
        message["Subject"] = "My bill"
        message["Message-ID"] = f"<cust-{n}@example.com>"
        message["References"] = f"<earlier-{n}@example.com>"
        message.set_content("I want to make a complaint about my bill, it is wrong again.")
        raw = message.as_bytes()
    else:
        raw = json.dumps(
            {"from": f"+4479460{n:05d}", "text": "I want to make a complaint about my bill"}
        ).encode()
    result = Intake(store, default_region="GB").submit(channel, raw)
    assert result.action == "started", result
    items = ProcessRuntime(store).work_items(instance_id=result.instance_id)
    return {
        "address": address,
        "message_id": f"<cust-{n}@example.com>",
        "earlier": f"<earlier-{n}@example.com>",
        "contact_id": result.contact_id,
        "case_id": result.case_id,
        "reference": result.case_reference,
        "customer_id": result.customer_id,
        "instance_id": result.instance_id,
        "item": items[0]["id"],
    }


def outbound(store: Store, case_id: str) -> list[Any]:
    with store.reading() as conn:
        return list(
            conn.execute(
                select(contacts).where(contacts.c.case_id == case_id, contacts.c.direction == "out")
            )
        )


def test_agent_replies_by_email_threaded_to_the_customers_message(
    demo_store: tuple[str, Store], sink: tuple[Sink, int]
) -> None:
    url, store = demo_store
    mailbox, port = sink
    case = customer_email(store)
    with TestClient(mail_app(url, store, port)) as client:
        token = login(client, "bokafor")
        page = client.get(f"/work/{case['item']}").text
        listed = re.search(rf'data-contact="{case["contact_id"]}".*?</li>', page, re.S)
        assert listed and "From the customer" in listed.group(0) and "email" in listed.group(0)
        assert re.search(rf'<option value="{case["contact_id"]}" selected', page)
        response = client.post(
            f"/work/{case['item']}/reply",
            data={
                "csrf": token,
                "contact": case["contact_id"],
                "reply": "We are sorry: the bill is corrected <today>.",
            },
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        assert (
            "Reply+sent" in response.headers["location"]
            or "Reply%20sent" in (response.headers["location"])
        )
        wait_for(lambda: len(mailbox.messages) == 1)
        [mail] = mailbox.messages
        assert mail["To"] == case["address"]
        assert mail["From"] == "service@northwind.example"
        assert mail["In-Reply-To"] == case["message_id"]
        assert str(mail["References"]).split() == [case["earlier"], case["message_id"]]
        assert str(mail["Subject"]) == f"Re: [{case['reference']}] My bill"
        assert mail.get_content().strip() == "We are sorry: the bill is corrected <today>."

        [stored] = outbound(store, case["case_id"])
        assert (stored.channel, stored.status, stored.sender) == ("email", "sent", case["address"])
        assert stored.details["actor"] == "bokafor"
        assert stored.message_id == mail["Message-ID"]  # the customer's answer threads back
        assert stored.in_reply_to == case["message_id"]
        sent = [e for e in store.events.where(case_id=case["case_id"]) if e.type == "contact.sent"]
        assert len(sent) == 1 and sent[0].actor == "bokafor"
        assert sent[0].process_instance_id == case["instance_id"]
        assert sent[0].contact_id == stored.id

        after = client.get(f"/work/{case['item']}").text
        assert "contact.sent" in after  # on the timeline
        assert "the bill is corrected &lt;today&gt;." in after
        assert re.search(rf'data-contact="{stored.id}".*?To the customer', after, re.S)


def test_no_sender_for_the_channel_names_the_setting_and_sends_nothing(
    demo_store: tuple[str, Store], sink: tuple[Sink, int]
) -> None:
    url, store = demo_store
    mailbox, _ = sink
    email_case = customer_email(store)
    sms_case = customer_email(store, channel="sms")
    with TestClient(mail_app(url, store, None)) as client:
        token = login(client, "bokafor")
        for case, setting in (
            (email_case, "FLOWDESK_SMTP_HOST"),
            (sms_case, 'FLOWDESK_NOTIFY_WEBHOOKS to {"sms"'),
        ):
            response = client.post(
                f"/work/{case['item']}/reply",
                data={"csrf": token, "contact": case["contact_id"], "reply": "Hello"},
            )
            assert response.status_code == 422
            assert f"set {setting}" in html.unescape(response.text)
            assert "Hello</textarea>" in response.text  # the agent's text is kept
            assert outbound(store, case["case_id"]) == []
    assert mailbox.messages == []


def test_bad_replies_are_refused_with_the_reason(
    demo_store: tuple[str, Store], sink: tuple[Sink, int]
) -> None:
    url, store = demo_store
    mailbox, port = sink
    case = customer_email(store)
    other = customer_email(store)
    with TestClient(mail_app(url, store, port)) as client:
        token = login(client, "bokafor")
        post = f"/work/{case['item']}/reply"
        empty = client.post(post, data={"csrf": token, "contact": case["contact_id"], "reply": " "})
        assert empty.status_code == 422 and "the reply is empty" in empty.text
        foreign = client.post(
            post, data={"csrf": token, "contact": other["contact_id"], "reply": "Hi"}
        )
        assert foreign.status_code == 422 and "no contact" in foreign.text
        forged = client.post(post, data={"csrf": "x" * 30, "contact": case["contact_id"]})
        assert forged.status_code == 400
        login(client, "lmurphy")  # billing: not their case
        token = csrf_of(client.get("/work").text)
        hidden = client.post(
            post, data={"csrf": token, "contact": case["contact_id"], "reply": "Hi"}
        )
        assert hidden.status_code == 403
    assert mailbox.messages == [] and outbound(store, case["case_id"]) == []


def test_smtp_server_down_is_a_clear_503_and_nothing_is_recorded(
    demo_store: tuple[str, Store],
) -> None:
    url, store = demo_store
    case = customer_email(store)
    with TestClient(mail_app(url, store, free_port())) as client:  # nobody listens there
        token = login(client, "bokafor")
        response = client.post(
            f"/work/{case['item']}/reply",
            data={"csrf": token, "contact": case["contact_id"], "reply": "Hello"},
        )
        assert response.status_code == 503
        assert "did not take the reply" in response.text
    assert outbound(store, case["case_id"]) == []


def test_consent_and_quiet_hours_are_respected(demo_store: tuple[str, Store]) -> None:
    url, store = demo_store
    clock = FixedClock(datetime(2026, 3, 2, 22, 30, tzinfo=UTC))  # 23:30 in Berlin
    quiet = customer_email(store)
    refused = customer_email(store)
    with store.unit_of_work() as uow:
        set_preferences(
            uow=uow,
            clock=clock,
            customer_id=quiet["customer_id"],
            preferences={"quiet_start": "22:00", "quiet_end": "07:30", "timezone": "Europe/Berlin"},
        )
        set_consent(
            uow=uow, clock=clock, customer_id=refused["customer_id"], channel="email", granted=False
        )
    email = RecordingSender()
    app = mail_app(url, store, None, clock)
    app.state.contact_senders = {"email": email}
    with TestClient(app) as client:
        token = login(client, "bokafor")
        kept = client.post(
            f"/work/{quiet['item']}/reply",
            data={"csrf": token, "contact": quiet["contact_id"], "reply": "Tomorrow then"},
        )
        assert kept.status_code == 200 and "quiet hours end 2026-03-03 06:30" in kept.text
        [row] = outbound(store, quiet["case_id"])
        assert row.status == "deferred" and row.details["send_at"] == "2026-03-03T06:30:00+00:00"
        no = client.post(
            f"/work/{refused['item']}/reply",
            data={"csrf": token, "contact": refused["contact_id"], "reply": "Hi"},
        )
        assert no.status_code == 422 and "withdrawn consent for email" in no.text
    assert email.sent == [] and outbound(store, refused["case_id"]) == []
    # When the quiet hours are over the worker's round sends it, still in the customer's thread.
    from flowdesk.channels.notify import send_due

    clock.set(datetime(2026, 3, 3, 6, 31, tzinfo=UTC))
    assert send_due(store, clock, senders={"email": email}) == 1
    [message] = email.sent
    with store.reading() as conn:
        original = conn.execute(
            select(contacts.c.message_id).where(contacts.c.id == quiet["contact_id"])
        ).scalar_one()
    assert original and message.in_reply_to == original and message.references == (original,)
    assert outbound(store, quiet["case_id"])[0].status == "sent"
