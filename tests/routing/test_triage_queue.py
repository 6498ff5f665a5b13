"""Contacts waiting for a first answer are in the one queue: a contact intake cannot route
appears as the next best work item of a front-office agent (not of a billing agent), with a
first-response SLA clock; deciding its reason takes it out of the queue and starts the flow.
Everything through the HTTP API, as an agent and a channel integration would."""

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
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.settings import Settings
from flowdesk.sla import SlaCatalog, SlaPolicy
from flowdesk.store import Store

DEMO = COMPANY_DIR
CHAT = {"channel": "chat", "session_id": "s-1", "email": "b@example.com", "text": "hello?"}


@pytest.fixture
def http(store: Store, database_url: str, clock: FixedClock) -> Iterator[TestClient]:
    runtime = ProcessRuntime(store, clock=clock)
    deploy_bundle(runtime, store, DEMO / "billing-dispute")
    app = create_app(Settings(database_url=database_url), store, clock)
    app.state.process_runtime = runtime
    with TestClient(app) as client:
        yield client


def _key(
    store: Store, clock: FixedClock, name: str, role: str, groups: list[str]
) -> dict[str, str]:
    auth.create_user(store, clock, username=name, roles=[role], groups=groups)
    _, token = auth.create_api_key(store, clock, username=name, name="t")
    return {"Authorization": f"Bearer {token}"}


def test_a_contact_to_triage_is_pulled_like_any_work_item_and_leaves_when_decided(
    http: TestClient, store: Store, clock: FixedClock
) -> None:
    portal = _key(store, clock, "portal", "integration", [])
    front = _key(store, clock, "bo", "agent", ["front-office"])
    billing = _key(store, clock, "bill", "agent", ["billing"])
    boss = _key(store, clock, "boss", "supervisor", ["front-office"])
    received = clock.now()
    waiting = http.post("/api/v1/contacts", json=CHAT, headers=portal).json()
    assert waiting["action"] == "triage"
    contact_id = waiting["contact_id"]
    clock.advance(minutes=3)
    # the routing round queues it (nobody is available yet, so it is not offered: it waits)
    assert http.post("/api/v1/routing/tick", headers=boss).json()["synced"] > 0
    for who in (front, billing):
        presence = {"presence": "available"}
        put = http.put("/api/v1/routing/agents/me/presence", json=presence, headers=who)
        assert put.status_code == 200, put.text

    best = http.get("/api/v1/routing/next", headers=front).json()
    assert best["id"] == contact_id and best["source"] == "contact"
    assert best["department"] == "front-office" and best["channel"] == "chat"
    assert best["name"] == "Triage: chat" and best["waiting_seconds"] == 180
    (sla,) = best["sla"]
    assert sla["kind"] == "first_response" and sla["remaining_seconds"] == 12 * 60
    assert sla["deadline"].startswith((received + timedelta(minutes=15)).isoformat()[:19])
    assert http.get("/api/v1/routing/next", headers=billing).json() is None  # not their queue

    taken = http.post("/api/v1/routing/next", headers=front).json()
    assert taken["id"] == contact_id and taken["status"] == "assigned" and taken["agent"] == "bo"
    assert taken["sla"][0]["status"] == "met"  # the first answer is given
    me = http.get("/api/v1/routing/agents/me", headers=front).json()
    assert me["load"] == {"chat": 1}

    decided = http.post(
        f"/api/v1/contacts/{contact_id}/reason", json={"reason": "billing-inquiry"}, headers=front
    )
    assert decided.status_code == 201 and decided.json()["action"] == "started"
    http.post("/api/v1/routing/tick", headers=boss)
    assert http.get("/api/v1/routing/agents/me", headers=front).json()["load"] == {}
    queued = http.get("/api/v1/routing/queue", headers=boss).json()
    assert contact_id not in [e["id"] for e in queued]
    left = [e for e in store.events.iterate() if e.type == "work_item.left_queue"]
    assert [(e.data["work_item_id"], e.data["reason"]) for e in left] == [(contact_id, "triaged")]
    # the flow it started is in the queue too, as the next work of the front office
    started = [e for e in queued if e["instance_id"] == decided.json()["instance_id"]]
    assert started and started[0]["source"] == "work_item"


def test_a_catalog_policy_for_the_triage_step_sets_the_target(
    store: Store, database_url: str, clock: FixedClock
) -> None:
    from flowdesk.routing.service import RoutingService

    catalog = SlaCatalog(
        policies=[SlaPolicy("triage-fast", step="triage", first_response=timedelta(minutes=5))]
    )
    app = create_app(Settings(database_url=database_url), store, clock)
    app.state.routing = RoutingService(store, clock=clock, catalog=catalog)
    with TestClient(app) as http:
        portal = _key(store, clock, "portal", "integration", [])
        boss = _key(store, clock, "boss", "supervisor", ["front-office"])
        contact = http.post("/api/v1/contacts", json=CHAT, headers=portal).json()
        assert contact["action"] == "triage"
        http.post("/api/v1/routing/tick", headers=boss)
        (entry,) = http.get("/api/v1/routing/queue?department=front-office", headers=boss).json()
        assert entry["id"] == contact["contact_id"]
        assert entry["sla"][0]["remaining_seconds"] == 5 * 60


@pytest.mark.usefixtures("loose_events")  # a hand-made history
def test_a_contact_back_in_triage_is_queued_again(store: Store, clock: FixedClock) -> None:
    from flowdesk.core.events import NewEvent
    from flowdesk.routing.service import RoutingService

    routing = RoutingService(store, clock=clock)

    def happened(kind: str) -> None:
        with store.unit_of_work() as uow:
            uow.append(NewEvent(kind, clock.now(), {}, contact_id="c-1", channel="email"))
        routing.sync()

    happened("contact.triage_required")
    assert routing.entry("c-1")["status"] == "queued"
    happened("contact.failed")  # the flow of the decided reason failed to start
    assert routing.entry("c-1")["status"] == "closed"
    clock.advance(minutes=10)
    happened("contact.triage_required")  # replayed, and still not recognised
    again = routing.entry("c-1")
    assert again["status"] == "queued" and again["channel"] == "email"
    assert again["waiting_seconds"] == 0 and again["sla"][0]["remaining_seconds"] == 15 * 60
