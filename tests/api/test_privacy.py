"""Data-subject requests through the API: export everything held about a customer, erase them
across the tables and the append-only event log (with an audit record), and the retention
round that empties old raw payloads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from tests.api.test_service_api import Api, make_api

from flowdesk.contacts.models import contacts
from flowdesk.contacts.privacy import Retention
from flowdesk.core.clock import FixedClock
from flowdesk.store import Store

SECRET_TEXT = "My IBAN is NL91ABNA0417164300, please refund"


@pytest.fixture
def api(
    store: Store, clock: FixedClock, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Api]:
    monkeypatch.setenv("FLOWDESK_WEBHOOK_INTERVAL", "0")
    yield from make_api(store, clock, database_url)


def test_export_then_erase_a_customer(api: Api) -> None:
    admin = api.as_("admin")
    sent = api.client.post(
        "/api/v1/contacts",
        json={
            "channel": "web",
            "email": "greta.privacy@example.com",
            "given_name": "Greta",
            "family_name": "Privacy",
            "text": SECRET_TEXT,
        },
        headers=admin,
    )
    assert sent.status_code == 201, sent.text
    customer = sent.json()["customer_id"]
    assert (
        api.client.get(f"/api/v1/customers/{customer}/export", headers=api.as_("agent")).status_code
        == 403
    )
    export = api.client.get(f"/api/v1/customers/{customer}/export", headers=admin).json()
    assert export["customer"]["family_name"] == "Privacy"
    assert [i["value"] for i in export["identities"]] == ["greta.privacy@example.com"]
    assert export["contacts"][0]["text"] == SECRET_TEXT
    assert SECRET_TEXT in export["contacts"][0]["raw"]
    assert export["events"]  # the log's entries that name the customer or the contact

    refused = api.client.post(
        f"/api/v1/customers/{customer}/erase", json={"reason": " "}, headers=admin
    )
    assert refused.status_code == 422
    erased = api.client.post(
        f"/api/v1/customers/{customer}/erase",
        json={"reason": "GDPR art. 17 request"},
        headers=admin,
    )
    assert erased.status_code == 200, erased.text
    assert erased.json()["contacts"] == 1 and erased.json()["identities"] == 1
    after = api.client.get(f"/api/v1/customers/{customer}/export", headers=admin).json()
    everything = json.dumps(after)
    for personal in ("Privacy", "Greta", "greta.privacy", "NL91ABNA", "IBAN"):
        assert personal not in everything, personal
    audit = [e for e in api.store.events.iterate() if e.type == "customer.erased"]
    assert len(audit) == 1 and audit[0].actor == "admin"
    assert audit[0].data["reason"] == "GDPR art. 17 request"
    everything_logged = json.dumps([e.data for e in api.store.events.iterate()])
    assert "NL91ABNA" not in everything_logged and "greta.privacy" not in everything_logged
    missing = api.client.post("/api/v1/customers/nobody/erase", json={"reason": "x"}, headers=admin)
    assert missing.status_code == 404


def test_retention_empties_old_raw_payloads(api: Api, clock: FixedClock) -> None:
    sent = api.client.post(
        "/api/v1/contacts",
        json={"channel": "web", "email": "old@example.com", "text": "An old question"},
        headers=api.as_("admin"),
    )
    assert sent.status_code == 201
    retention = Retention(raw_contacts=timedelta(days=30))
    assert retention.apply(api.store, clock.now())["raw_contacts"] == 0  # not old yet
    gone = retention.apply(api.store, clock.now() + timedelta(days=31))
    assert gone["raw_contacts"] == 1
    with api.store.reading() as conn:
        raw, text = conn.execute(select(contacts.c.raw, contacts.c.text)).one()
    assert bytes(raw) == b"" and text == "An old question"  # what was read from it stays
