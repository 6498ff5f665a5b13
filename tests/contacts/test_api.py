"""The contacts router over HTTP: webhooks per channel, bad input as 4xx problems (never 500),
dead letters and replay, triage decisions, cases and the verified status lookup."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from flowdesk.api import problems
from flowdesk.api.routes import contacts as contact_routes
from flowdesk.auth import service as auth
from flowdesk.channels.outbound import RecordingSender
from flowdesk.core.clock import FixedClock
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

DATA = Path(__file__).resolve().parents[1] / "data" / "contacts"


def _key(
    store: Store, clock: FixedClock, username: str, role: str, groups: list[str] | None = None
) -> dict[str, str]:
    auth.create_user(store, clock, username=username, roles=[role], groups=groups)
    _, token = auth.create_api_key(store, clock, username=username, name="test")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(
    store: Store, clock: FixedClock, runtime: ProcessRuntime
) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    app = FastAPI()
    problems.install(app)
    app.state.store = store
    app.state.clock = clock
    app.state.process_runtime = runtime
    app.state.contact_senders = {"sms": RecordingSender()}
    app.state.contact_default_region = "GB"
    app.include_router(contact_routes.router)
    keys = {
        "integration": _key(store, clock, "portal", "integration"),
        "agent": _key(store, clock, "agent1", "agent", ["front-office"]),
        "billing": _key(store, clock, "bill1", "agent", ["billing"]),
        "supervisor": _key(store, clock, "sup1", "supervisor"),
    }
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client, keys


Client = tuple[TestClient, dict[str, dict[str, str]]]


def test_every_route_requires_a_permission(client: Client) -> None:
    http, _ = client
    for route in contact_routes.router.routes:
        dependencies = getattr(route, "dependant").dependencies  # noqa: B009
        flat = [d.call for d in dependencies]
        assert any(hasattr(c, "__flowdesk_permission__") for c in flat), route
    assert http.post("/api/v1/webhooks/sms", content=b"{}").status_code == 401


def test_sms_webhook_starts_a_flow_and_the_case_is_readable(client: Client) -> None:
    http, keys = client
    sent = http.post(
        "/api/v1/webhooks/sms",
        content=json.dumps({"from": "+447911123456", "text": "my internet is down"}),
        headers=keys["integration"],
    )
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert body["action"] == "started" and body["review_required"] is True
    ref = body["case_reference"]
    case = http.get(f"/api/v1/cases/{ref}", headers=keys["agent"]).json()
    assert case["reason"] == "no-internet" and case["status"] == "open"
    assert [c["direction"] for c in case["contacts"]] == ["in", "out"]  # the SMS reply
    contact = http.get(f"/api/v1/contacts/{body['contact_id']}", headers=keys["agent"])
    assert contact.json()["channel"] == "sms"


def test_a_contact_is_read_only_by_those_who_work_its_case(client: Client) -> None:
    """Issue 16: a contact holds what the customer wrote. The front office works the outage
    flow, so its agents read the contact and case; billing's agents get 403 for both; a
    supervisor reads all. An id that exists nowhere is a 404 first (as for process instances)."""
    http, keys = client
    body = http.post(
        "/api/v1/webhooks/sms",
        content=json.dumps({"from": "+447911123456", "text": "my internet is down"}),
        headers=keys["integration"],
    ).json()
    contact = f"/api/v1/contacts/{body['contact_id']}"
    case = f"/api/v1/cases/{body['case_reference']}"
    for path in (contact, case):
        assert http.get(path, headers=keys["agent"]).status_code == 200, path
        assert http.get(path, headers=keys["supervisor"]).status_code == 200, path
        refused = http.get(path, headers=keys["billing"])
        assert refused.status_code == 403, path
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert http.get("/api/v1/contacts/nope", headers=keys["billing"]).status_code == 404


def test_a_contact_in_triage_is_read_by_those_who_triage(client: Client) -> None:
    http, keys = client
    waiting = http.post(
        "/api/v1/contacts",
        json={"channel": "chat", "session_id": "s", "email": "b@example.com", "text": "hello"},
        headers=keys["integration"],
    ).json()
    assert waiting["action"] == "triage"
    path = f"/api/v1/contacts/{waiting['contact_id']}"
    assert http.get(path, headers=keys["agent"]).json()["status"] == "triage"  # front office
    assert http.get(path, headers=keys["billing"]).status_code == 403


def test_malformed_json_is_a_422_problem_and_kept_as_a_dead_letter(client: Client) -> None:
    http, keys = client
    bad = http.post(
        "/api/v1/webhooks/chat", content=b'{"session_id": ', headers=keys["integration"]
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    problem = bad.json()
    assert "malformed JSON" in problem["detail"] and problem["contact_id"]
    letters = http.get("/api/v1/contacts/dead-letters", headers=keys["supervisor"]).json()
    assert [d["id"] for d in letters] == [problem["contact_id"]]
    assert http.get("/api/v1/contacts/dead-letters", headers=keys["agent"]).status_code == 403
    replayed = http.post(
        "/api/v1/contacts/dead-letters/replay", json={}, headers=keys["supervisor"]
    )
    assert replayed.status_code == 200 and replayed.json()[0]["status"] == "failed"


@pytest.mark.parametrize(
    ("path", "content", "status"),
    [
        ("/api/v1/webhooks/pigeon", b"{}", 404),
        ("/api/v1/webhooks/sms", b"[]", 422),
        ("/api/v1/webhooks/sms", json.dumps({"from": "123", "text": "x"}).encode(), 422),
        ("/api/v1/webhooks/email", b"Subject: no sender\r\n\r\nhi", 422),
        ("/api/v1/contacts", b"not json at all", 422),
        ("/api/v1/contacts", json.dumps({"channel": "email"}).encode(), 422),
    ],
)
def test_bad_input_is_a_4xx_problem_never_500(
    client: Client, path: str, content: bytes, status: int
) -> None:
    http, keys = client
    answer = http.post(path, content=content, headers=keys["integration"])
    assert answer.status_code == status, answer.text
    assert answer.json()["detail"]


def test_status_lookup_reveals_only_to_the_case_customer(client: Client) -> None:
    http, keys = client
    started = http.post(
        "/api/v1/contacts",
        json={"channel": "web", "email": "ann@example.com", "reason": "complaint", "message": "x"},
        headers=keys["integration"],
    ).json()
    ref = started["case_reference"]
    good = http.post(
        "/api/v1/cases/status",
        json={"reference": ref, "email": "ann@example.com"},
        headers=keys["integration"],
    ).json()
    assert good["verified"] and good["texts"] == [f"We have registered your complaint {ref}."]
    spoof = http.post(
        "/api/v1/cases/status",
        json={"reference": ref, "email": "eve@example.com"},
        headers=keys["integration"],
    ).json()
    assert spoof["verified"] is False and spoof["texts"] == [] and spoof["status"] is None
    assert "complaint" not in spoof["message"]
    extra = http.post(
        "/api/v1/cases/status", json={"reference": ref, "x": 1}, headers=keys["integration"]
    )
    assert extra.status_code == 422


def test_triage_decision_over_http(client: Client) -> None:
    http, keys = client
    waiting = http.post(
        "/api/v1/contacts",
        json={"channel": "chat", "session_id": "s", "email": "b@example.com", "text": "hello"},
        headers=keys["integration"],
    ).json()
    assert waiting["action"] == "triage"
    queue = http.get("/api/v1/contacts/triage", headers=keys["agent"]).json()
    assert [c["id"] for c in queue] == [waiting["contact_id"]]
    decided = http.post(
        f"/api/v1/contacts/{waiting['contact_id']}/reason",
        json={"reason": "billing-inquiry"},
        headers=keys["agent"],
    )
    assert decided.status_code == 201 and decided.json()["action"] == "started"
    unknown = http.post(
        f"/api/v1/contacts/{waiting['contact_id']}/reason",
        json={"reason": "billing-inquiry"},
        headers=keys["agent"],
    )
    assert unknown.status_code == 422  # no longer in triage


def test_reasons_train_and_evaluate_over_http(client: Client) -> None:
    http, keys = client
    csv_body = (DATA / "reasons.csv").read_bytes()
    assert (
        http.post("/api/v1/reasons/train", content=csv_body, headers=keys["agent"]).status_code
        == 403
    )
    trained = http.post("/api/v1/reasons/train", content=csv_body, headers=keys["supervisor"])
    assert trained.status_code == 201 and trained.json()["version"] == 1
    assert trained.json()["held_out"]["macro_f1"] > 0.8
    scores = http.post(
        "/api/v1/reasons/evaluate",
        content=(DATA / "reasons_holdout.csv").read_bytes(),
        headers=keys["supervisor"],
    ).json()
    assert scores["accuracy"] >= 0.85 and scores["examples"] == 40
    bad = http.post("/api/v1/reasons/train", content=b"a,b\n1,2\n", headers=keys["supervisor"])
    assert bad.status_code == 422 and "columns text and reason" in bad.json()["detail"]


PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5Er"
    "kJggg=="
)


@pytest.mark.parametrize(
    ("channel", "payload"),
    [
        (
            "phone",
            {
                "event": "call.ended",
                "call_id": "c1",
                "caller": "+447911123456",
                "ivr_choice": "1",
                "transcript": "no signal",
            },
        ),
        ("chat", {"session_id": "s9", "email": "c@example.com", "text": "internet is down"}),
        ("social", {"network": "twitter", "handle": "@cee", "text": "broadband is down!!"}),
        (
            "letter",
            {
                "scan": {"name": "l.png", "content_type": "image/png", "data": PNG},
                "text": "I wish to make a complaint",
                "customer": {"name": "Cee Dee"},
                "reason": "complaint",
            },
        ),
        (
            "fax",
            {
                "scan": {
                    "name": "f.pdf",
                    "content_type": "application/pdf",
                    "data": "JVBERi0xLjQK",
                },
                "text": "no internet at the shop",
                "phone": "+447911123457",
            },
        ),
        (
            "counter",
            {"agent": "lena", "notes": "Customer reports no internet", "email": "d@example.com"},
        ),
        (
            "app",
            {
                "device_id": "dev-9",
                "text": "cable cut, no internet",
                "photo": {"name": "p.png", "content_type": "image/png", "data": PNG},
                "geo": {"latitude": 52.1, "longitude": -1.2},
            },
        ),
        (
            "web",
            {
                "email": "e@example.com",
                "message": "Please look at my bill",
                "reason": "billing-inquiry",
            },
        ),
    ],
)
def test_every_channel_webhook_creates_a_contact_over_http(
    client: Client, channel: str, payload: dict[str, object]
) -> None:
    http, keys = client
    answer = http.post(
        f"/api/v1/webhooks/{channel}", content=json.dumps(payload), headers=keys["integration"]
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["action"] == "started" and body["case_reference"].startswith("FD-")
    stored = http.get(f"/api/v1/contacts/{body['contact_id']}", headers=keys["supervisor"]).json()
    assert stored["channel"] == channel and stored["customer_id"] == body["customer_id"]
    if channel == "app":
        assert stored["geo"]["latitude"] == 52.1 and stored["attachments"][0]["size"] > 0


def test_email_webhook_takes_an_rfc822_message(client: Client) -> None:
    http, keys = client
    raw = (
        b"From: Dee <dee@example.com>\r\nTo: service@example.com\r\nSubject: broadband\r\n"
        b"Message-ID: <w1@example.com>\r\n\r\nno internet since yesterday\r\n"
    )
    answer = http.post(
        "/api/v1/webhooks/email",
        content=raw,
        headers={**keys["integration"], "Content-Type": "message/rfc822"},
    )
    assert answer.status_code == 201 and answer.json()["action"] == "started"
