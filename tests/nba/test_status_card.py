# ruff: noqa: F811
"""The next best action on the customer's status page: after verification the customer sees
one card (the action's `web` treatment) and answers it with one click; the outcome is recorded
for the model, and nobody can answer a card that was not shown to them."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.web.conftest import app, client, csrf_of, demo_store, store  # noqa: F401

from flowdesk.core.clock import SystemClock
from flowdesk.customers import service as customers
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store


def test_the_customer_answers_the_status_page_card(client: TestClient, store: Store) -> None:
    with store.unit_of_work() as uow:
        found = customers.create_customer(
            uow=uow, clock=SystemClock(), profile={"display_name": "Nina Card"}
        )
    ProcessRuntime(store).start(
        "refund_request",
        {"customerName": "Nina Card", "customerId": found.id},
        business_key="FD-CARD1",
    )
    form = {"csrf": csrf_of(client.get("/status").text), "reference": "FD-CARD1", "proof": "card"}
    page = client.post("/status", data=form)
    assert page.status_code == 200, page.text
    assert 'id="status-offer"' in page.text
    decision = page.text.split('name="decision" value="')[1].split('"')[0]
    wrong = client.post(
        "/status/offer", data={**form, "decision": "not-mine", "outcome": "accepted"}
    )
    assert wrong.status_code == 422 and "no such offer for you" in wrong.text
    answered = client.post(
        "/status/offer", data={**form, "decision": decision, "outcome": "accepted"}
    )
    assert answered.status_code == 200 and "we have noted your answer" in answered.text
    stranger = client.post(
        "/status/offer", data={**form, "proof": "someone", "decision": decision, "outcome": "x"}
    )
    assert stranger.status_code == 404
    from flowdesk.nba.models import nba_decisions

    with store.reading() as conn:
        row = conn.execute(nba_decisions.select().where(nba_decisions.c.id == decision)).first()
    assert row is not None and row.outcome == "accepted" and row.channel == "web"
    assert row.actor == "customer"
