"""A contact's SLA clock starts when it arrived: waiting in triage does not restart it, neither
for its triage entry nor for the first step of the flow it starts once a person decided its
reason; and the supervisor's counts include the contacts waiting for triage, per department.
Driven over HTTP as a channel integration, an agent and a supervisor would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from flowdesk.api.app import create_app
from flowdesk.auth import service as auth
from flowdesk.core.clock import FixedClock
from flowdesk.demo import COMPANY_DIR
from flowdesk.experience.service import deploy_bundle
from flowdesk.routing.service import RoutingService
from flowdesk.routing.triage import TriageWaiting, waiting_by_department
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.settings import Settings
from flowdesk.sla import SlaCatalog, SlaPolicy
from flowdesk.store import Store

DEMO = COMPANY_DIR
CHAT = {"channel": "chat", "session_id": "s-1", "email": "b@example.com", "text": "hello?"}
CATALOG = SlaCatalog(
    policies=[
        SlaPolicy("triage", step="triage", first_response=timedelta(minutes=15)),
        SlaPolicy("billing", reason="billing_dispute", first_response=timedelta(hours=4)),
    ]
)


@pytest.fixture
def http(store: Store, database_url: str, clock: FixedClock) -> Iterator[TestClient]:
    runtime = ProcessRuntime(store, clock=clock)
    deploy_bundle(runtime, store, DEMO / "billing-dispute")
    app = create_app(Settings(database_url=database_url), store, clock)
    app.state.process_runtime = runtime
    app.state.routing = RoutingService(store, clock=clock, catalog=CATALOG)
    with TestClient(app) as client:
        yield client


def _key(store: Store, clock: FixedClock, name: str, role: str) -> dict[str, str]:
    auth.create_user(store, clock, username=name, roles=[role], groups=["front-office"])
    _, token = auth.create_api_key(store, clock, username=name, name="t")
    return {"Authorization": f"Bearer {token}"}


def test_triaging_keeps_the_arrival_as_the_start_of_the_sla_clock(
    http: TestClient, store: Store, clock: FixedClock
) -> None:
    portal = _key(store, clock, "portal", "integration")
    front = _key(store, clock, "bo", "agent")
    boss = _key(store, clock, "boss", "supervisor")
    arrived = clock.now()
    waiting = http.post("/api/v1/contacts", json=CHAT, headers=portal).json()
    assert waiting["action"] == "triage"
    clock.advance(hours=3)  # nobody triaged it for three hours
    http.post("/api/v1/routing/tick", headers=boss)
    (entry,) = http.get("/api/v1/routing/queue", headers=boss).json()
    assert entry["id"] == waiting["contact_id"] and entry["waiting_seconds"] == 3 * 3600
    assert entry["sla"][0]["status"] == "breached"
    assert waiting_by_department(store, clock.now()) == {
        "front-office": TriageWaiting("front-office", 1, 1, 1, arrived)
    }
    figures = http.get("/api/v1/routing/supervisor", headers=boss).json()
    assert [(t["department"], t["waiting"], t["overdue"]) for t in figures["triage"]] == [
        ("front-office", 1, 1)
    ]

    decided = http.post(
        f"/api/v1/contacts/{waiting['contact_id']}/reason",
        json={"reason": "billing-inquiry"},
        headers=front,
    ).json()
    assert decided["action"] == "started"
    http.post("/api/v1/routing/tick", headers=boss)
    (first,) = http.get("/api/v1/routing/queue", headers=boss).json()
    assert first["instance_id"] == decided["instance_id"]
    # the first step waits since the contact arrived, and its 4 h clock started then
    assert first["waiting_seconds"] == 3 * 3600
    (sla,) = first["sla"]
    assert sla["kind"] == "first_response" and sla["remaining_seconds"] == 3600
    assert sla["deadline"].startswith((arrived + timedelta(hours=4)).isoformat()[:19])
    assert waiting_by_department(store, clock.now()) == {}


def test_a_flow_started_on_arrival_is_unchanged(
    http: TestClient, store: Store, clock: FixedClock
) -> None:
    portal = _key(store, clock, "portal", "integration")
    boss = _key(store, clock, "boss", "supervisor")
    form = {"channel": "web", "email": "c@example.com", "reason": "billing-inquiry", "text": "x"}
    started = http.post("/api/v1/contacts", json=form, headers=portal).json()
    assert started["action"] == "started"
    http.post("/api/v1/routing/tick", headers=boss)
    (first,) = http.get("/api/v1/routing/queue", headers=boss).json()
    assert first["waiting_seconds"] == 0 and first["sla"][0]["remaining_seconds"] == 4 * 3600
