"""The /outbox page and web-form replies (issue 17): an agent answers a web-form contact by
email through a real SMTP server (aiosmtpd); the message is listed on /outbox for the agent
and the supervisor, newest first, and not for an agent of another department."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.channels.test_email_smtp import Sink, serving_sink, wait_for
from tests.web.conftest import login
from tests.web.test_reply import customer_email, mail_app, outbound

from flowdesk.contacts.intake import Intake
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    with serving_sink() as served:
        yield served


def web_form(store: Store, address: str) -> dict[str, Any]:
    """A complaint sent with the web form (email field filled in)."""
    raw = json.dumps(
        {"email": address, "name": "Wendy Form", "message": "I want to make a complaint"}
    ).encode()
    result = Intake(store, default_region="GB").submit("web", raw)
    assert result.action == "started", result
    items = ProcessRuntime(store).work_items(instance_id=result.instance_id)
    return {
        "contact_id": result.contact_id,
        "case_id": result.case_id,
        "reference": result.case_reference,
        "item": items[0]["id"],
    }


def reply(client: TestClient, token: str, item: str, contact: str, text: str) -> None:
    response = client.post(
        f"/work/{item}/reply",
        data={"csrf": token, "contact": contact, "reply": text},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def test_web_form_contact_is_answered_by_email_and_listed_on_the_outbox(
    demo_store: tuple[str, Store], sink: tuple[Sink, int]
) -> None:
    url, store = demo_store
    mailbox, port = sink
    case = web_form(store, "wendy.form@example.com")
    earlier = customer_email(store)
    with TestClient(mail_app(url, store, port)) as client:
        token = login(client, "bokafor")
        page = client.get(f"/work/{case['item']}").text
        option = re.search(rf'<option value="{case["contact_id"]}" selected>([^<]*)', page)
        assert option and "web form, answered by email" in option.group(1), page
        reply(client, token, earlier["item"], earlier["contact_id"], "First answer, by email.")
        reply(client, token, case["item"], case["contact_id"], "We have your web form <ok>.")
        wait_for(lambda: len(mailbox.messages) == 2)
        mail = mailbox.messages[1]
        assert mail["To"] == "wendy.form@example.com"
        assert str(mail["Subject"]) == f"Re: [{case['reference']}] Your request"
        assert mail.get_content().strip() == "We have your web form <ok>."
        [stored] = outbound(store, case["case_id"])
        assert (stored.channel, stored.sender) == ("email", "wendy.form@example.com")

        listed = client.get("/outbox")
        assert listed.status_code == 200
        assert '<a href="/outbox">Outbox</a>' in listed.text  # in the navigation
        rows = re.findall(r'<tr data-message="([^"]+)"', listed.text)
        assert rows[:2] == [stored.id, outbound(store, earlier["case_id"])[0].id]  # newest first
        assert "We have your web form &lt;ok&gt;." in listed.text
        assert case["reference"] in listed.text and "wendy.form@example.com" in listed.text

    with TestClient(mail_app(url, store, port)) as supervisor:
        login(supervisor, "akeller")
        assert stored.id in supervisor.get("/outbox").text
    with TestClient(mail_app(url, store, port)) as other:
        login(other, "lmurphy")  # billing: cannot see the front office's complaint
        seen = other.get("/outbox")
        assert seen.status_code == 200 and stored.id not in seen.text


def test_outbox_needs_a_login(client: TestClient) -> None:
    response = client.get("/outbox", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_a_phone_contact_still_cannot_be_answered(demo_store: tuple[str, Store]) -> None:
    """Only channels with an address to answer on: a web form without an email is refused."""
    url, store = demo_store
    raw = json.dumps({"phone": "+447946011111", "message": "I want to make a complaint"})
    result = Intake(store, default_region="GB").submit("web", raw.encode())
    item = ProcessRuntime(store).work_items(instance_id=result.instance_id)[0]["id"]
    with TestClient(mail_app(url, store, None)) as client:
        token = login(client, "bokafor")
        response = client.post(
            f"/work/{item}/reply",
            data={"csrf": token, "contact": result.contact_id, "reply": "Hello"},
        )
        assert response.status_code == 422
        assert "web form with an email address" in response.text
