"""The customer answers the current step's questions on the status page: the fields marked
`x-customer` in the step's form are shown after verification, valid answers become process
variables (and an event) the agent then sees prefilled, invalid ones are refused with 422
and nothing is written."""

from __future__ import annotations

import itertools
import re
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from tests.web.conftest import csrf_of, login

from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

_refs = itertools.count(1)


def _refund_case(client: TestClient, store: Store) -> tuple[dict[str, str], dict[str, Any]]:
    reference = f"FD-S{next(_refs):04d}"
    runtime = ProcessRuntime(store)
    state = runtime.start("refund_request", {"customerName": "Rita Refund"}, business_key=reference)
    item = runtime.work_items(instance_id=state.id)[0]
    assert item["element_id"] == "capture_refund"
    token = csrf_of(client.get("/status").text)
    return {"csrf": token, "reference": reference, "proof": "refund"}, item


def _events(store: Store, instance_id: str) -> list[Any]:
    return [
        e
        for e in store.events.where(process_instance_id=instance_id)
        if e.type == "customer.form_submitted"
    ]


def test_verified_customer_sees_the_steps_customer_fields(client: TestClient, store: Store) -> None:
    form, _ = _refund_case(client, store)
    page = client.post("/status", data=form)
    assert page.status_code == 200
    html = page.text
    assert 'id="self-service-form"' in html
    assert '<label for="q-refundReason">Reason *</label>' in html
    assert 'name="amount" type="number"' in html and 'max="10000"' in html
    assert 'name="outageDays" type="number" inputmode="decimal" step="1"' in html
    assert '<option value="service-credit"' in html
    assert "identityVerified" not in html  # the agent's question, not the customer's


def test_unverified_visitor_sees_no_questions(client: TestClient, store: Store) -> None:
    form, _ = _refund_case(client, store)
    page = client.post("/status", data={**form, "proof": "someone else"})
    assert page.status_code == 404 and "self-service-form" not in page.text
    answer = client.post("/status/answers", data={**form, "proof": "nope", "amount": "5"})
    assert answer.status_code == 404


def test_valid_answers_set_variables_record_event_and_prefill_the_agent_form(
    client: TestClient, store: Store
) -> None:
    form, item = _refund_case(client, store)
    answers = {"refundReason": "service-credit", "amount": "42.50", "outageDays": "3"}
    page = client.post("/status/answers", data={**form, **answers})
    assert page.status_code == 200, page.text
    assert "your answers are on your case" in page.text
    variables = ProcessRuntime(store).instance(item["instance_id"]).vars
    assert variables["refundReason"] == "service-credit"
    assert Decimal(str(variables["amount"])) == Decimal("42.50")
    assert variables["outageDays"] == 3
    [event] = _events(store, item["instance_id"])
    assert event.data["fields"] == ["amount", "outageDays", "refundReason"]
    assert event.data["business_key"] == form["reference"]
    assert 'value="42.50"' in page.text  # the form shows what was sent

    token = login(client, "akeller")
    # the agent confirms the identity check; the customer's answers are already in the form
    case = client.post(
        f"/work/{item['id']}/script", data={"csrf": token, "identityVerified": "yes"}
    )
    assert case.status_code == 200, case.text
    html = case.text
    assert re.search(r'<option value="service-credit"\s+selected>', html)
    assert re.search(r'name="amount" type="number" step="any" value="42.50"', html)
    assert re.search(r'name="outageDays" type="number" step="any" value="3"', html)


def test_invalid_answers_are_refused_and_nothing_is_set(client: TestClient, store: Store) -> None:
    form, item = _refund_case(client, store)
    cases = [
        {"refundReason": "service-credit", "amount": "-5"},  # exclusiveMinimum 0
        {"refundReason": "free-money", "amount": "10"},  # not in the enum
        {"refundReason": "overpayment", "amount": "ten"},  # not a number
        {"refundReason": "overpayment", "amount": "10", "outageDays": "2.5"},  # not an integer
        {"amount": "10"},  # the reason is required
        {"refundReason": "overpayment", "amount": "10", "outageDays": "120"},  # over 90
    ]
    for bad in cases:
        page = client.post("/status/answers", data={**form, **bad})
        assert page.status_code == 422, bad
        assert "Please check your answers." in page.text
        assert 'role="alert"' in page.text
    page = client.post(
        "/status/answers", data={**form, "refundReason": "overpayment", "amount": "-1"}
    )
    assert "Amount (EUR):" in page.text
    variables = ProcessRuntime(store).instance(item["instance_id"]).vars
    assert not {"refundReason", "amount", "outageDays"} & set(variables)
    assert _events(store, item["instance_id"]) == []
