"""The routing API: agents' presence, pull, offers, transfers, supervisor figures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

import flowdesk.api.routes.routing as routing_routes
from flowdesk.api.app import create_app
from flowdesk.auth import service as auth
from flowdesk.core.clock import FixedClock
from flowdesk.routing import Item
from flowdesk.routing.service import RoutingService
from flowdesk.settings import Settings
from flowdesk.sla import SlaCatalog, SlaPolicy
from flowdesk.store import Store


@pytest.fixture
def routing(store: Store, clock: FixedClock) -> RoutingService:
    catalog = SlaCatalog(policies=[SlaPolicy("any", first_response=timedelta(minutes=10))])
    return RoutingService(store, clock=clock, catalog=catalog)


@pytest.fixture
def client(
    store: Store, database_url: str, clock: FixedClock, routing: RoutingService
) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=database_url), store, clock)
    app.state.routing = routing
    with TestClient(app) as c:
        yield c


def key(store: Store, clock: FixedClock, username: str, role: str, groups: list[str]) -> dict:  # type: ignore[type-arg]
    auth.create_user(store, clock, username=username, roles=[role], groups=groups)
    _, token = auth.create_api_key(store, clock, username=username, name="t")
    return {"Authorization": f"Bearer {token}"}


def test_every_routing_route_requires_a_permission() -> None:
    for route in routing_routes.router.routes:
        assert isinstance(route, APIRoute)
        marks = [
            getattr(d.call, "__flowdesk_permission__", None) for d in route.dependant.dependencies
        ]
        assert any(marks), route.path


def test_agent_pulls_work_and_supervisor_sees_figures(
    client: TestClient, store: Store, clock: FixedClock, routing: RoutingService
) -> None:
    ana = key(store, clock, "ana", "agent", ["support"])
    boss = key(store, clock, "boss", "supervisor", ["support"])
    routing.enqueue(Item("c1", "chat", clock.now(), department="support"))
    routing.enqueue(Item("c2", "email", clock.now(), department="billing"))
    assert client.get("/api/v1/routing/next", headers=ana).json() is None  # offline
    r = client.put(
        "/api/v1/routing/agents/me/presence", json={"presence": "available"}, headers=ana
    )
    assert r.status_code == 200 and r.json()["departments"] == ["support"]
    assert client.get("/api/v1/routing/next", headers=ana).json()["id"] == "c1"
    clock.advance(minutes=9)
    taken = client.post("/api/v1/routing/next", headers=ana).json()
    assert taken["id"] == "c1" and taken["agent"] == "ana"
    assert client.post("/api/v1/routing/next", headers=ana).json() is None
    clock.advance(minutes=3)
    view = client.get("/api/v1/routing/supervisor", headers=boss)
    assert view.status_code == 200
    body = view.json()
    assert body["queued"] == 1
    assert body["queues"] == [
        {
            "department": "billing",
            "channel": "email",
            "size": 1,
            "oldest_wait_seconds": 720.0,
            "average_wait_seconds": 720.0,
        }
    ]
    assert [r["work_item_id"] for r in body["slas_at_risk"]] == ["c2"]  # c1 was answered
    (agent,) = body["agents"]
    assert agent["id"] == "ana" and agent["load"] == {"chat": 1}
    # agents may not see the supervisor view
    denied = client.get("/api/v1/routing/supervisor", headers=ana)
    assert denied.status_code == 403 and "supervise" in denied.json()["detail"]
    assert client.get("/api/v1/routing/supervisor").status_code == 401


def test_offers_through_the_api(
    client: TestClient, store: Store, clock: FixedClock, routing: RoutingService
) -> None:
    ana = key(store, clock, "ana", "agent", ["support"])
    bob = key(store, clock, "bob", "agent", ["support"])
    boss = key(store, clock, "boss", "supervisor", [])
    for h in (ana, bob):
        client.put("/api/v1/routing/agents/me/presence", json={"presence": "available"}, headers=h)
    routing.enqueue(Item("c1", "chat", clock.now(), department="support"))
    assert client.post("/api/v1/routing/tick", headers=boss).json()["offered"] == 1
    mine = client.get("/api/v1/routing/offers", headers=ana).json()
    theirs = client.get("/api/v1/routing/offers", headers=bob).json()
    (offer,) = mine + theirs
    first, second = (ana, bob) if mine else (bob, ana)
    r = client.post(
        f"/api/v1/routing/offers/{offer['offer_id']}/decline",
        json={"reason": "lunch"},
        headers=first,
    )
    assert r.status_code == 200 and r.json()["status"] == "queued"
    client.post("/api/v1/routing/tick", headers=boss)
    (again,) = client.get("/api/v1/routing/offers", headers=second).json()
    wrong = client.post(f"/api/v1/routing/offers/{again['offer_id']}/accept", headers=first)
    assert wrong.status_code == 404
    ok = client.post(f"/api/v1/routing/offers/{again['offer_id']}/accept", headers=second)
    assert ok.status_code == 200 and ok.json()["status"] == "assigned"


def test_transfer_and_sla_pause_through_the_api(
    client: TestClient, store: Store, clock: FixedClock, routing: RoutingService
) -> None:
    ana = key(store, clock, "ana", "agent", ["support"])
    bob = key(store, clock, "bob", "agent", ["support"])
    boss = key(store, clock, "boss", "supervisor", [])
    client.put("/api/v1/routing/agents/me/presence", json={"presence": "available"}, headers=ana)
    routing.enqueue(Item("c1", "chat", clock.now(), department="support"))
    client.post("/api/v1/routing/next", headers=ana)
    body = {"department": "billing", "reason": "refund"}
    assert (
        client.post("/api/v1/routing/items/c1/transfer", json=body, headers=bob).status_code == 403
    )
    assert (
        client.post("/api/v1/routing/items/c1/sla/pause", headers=ana).json()["sla"][0]["status"]
        == "met"
    )  # first response already given when ana took it
    moved = client.post("/api/v1/routing/items/c1/transfer", json=body, headers=ana)
    assert moved.status_code == 200 and moved.json()["department"] == "billing"
    assert (
        client.post(
            "/api/v1/routing/items/c1/transfer",
            json={"department": "x", "reason": ""},
            headers=boss,
        ).status_code
        == 422
    )
    queue = client.get("/api/v1/routing/queue?department=billing", headers=boss).json()
    assert [e["id"] for e in queue] == ["c1"]
    event = next(e for e in store.events.after(0, 1000) if e.type == "work_item.transferred")
    assert event.data["reason"] == "refund" and event.actor == "ana"


def test_supervisor_configures_agents(client: TestClient, store: Store, clock: FixedClock) -> None:
    boss = key(store, clock, "boss", "supervisor", [])
    ana = key(store, clock, "ana", "agent", ["support"])
    spec = {
        "skills": {"billing": 3},
        "languages": ["nl"],
        "departments": ["billing"],
        "capacity": {"chat": 2, "call": 1},
    }
    r = client.put("/api/v1/routing/agents/lars", json=spec, headers=boss)
    assert r.status_code == 200 and r.json()["capacity"] == {"chat": 2, "call": 1}
    bad = client.put("/api/v1/routing/agents/lars", json={"capacity": {"chat": 0}}, headers=boss)
    assert bad.status_code == 400
    assert client.put("/api/v1/routing/agents/lars", json=spec, headers=ana).status_code == 403
    r = client.put("/api/v1/routing/agents/lars/presence", json={"presence": "away"}, headers=boss)
    assert r.json()["presence"] == "away"
    r = client.put("/api/v1/routing/agents/lars/presence", json={"presence": "nap"}, headers=boss)
    assert r.status_code == 422
    assert [a["id"] for a in client.get("/api/v1/routing/agents", headers=boss).json()] == ["lars"]
    me = client.get("/api/v1/routing/agents/me", headers=ana).json()
    assert me["presence"] == "offline" and me["departments"] == ["support"]
