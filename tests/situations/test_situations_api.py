"""Every pattern operator through `POST /api/v1/events` and the event log, with the consumer
and action rounds a worker runs, and what `GET /api/v1/situations` shows afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.api.test_bundles_api import post_zip, zip_folder
from tests.api.test_service_api import Api, make_api
from tests.situations.bundle import PATTERNS, write
from tests.web.conftest import PASSWORD, login

from flowdesk.auth import service
from flowdesk.channels.outbound import RecordingSender
from flowdesk.core.clock import FixedClock
from flowdesk.customers.registry import create_customer
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.situations.actions import ActionRunner
from flowdesk.situations.consumer import SituationConsumer
from flowdesk.situations.customers import set_service_points
from flowdesk.store import Store

BATCH = {"content-type": "application/cloudevents-batch+json"}


@pytest.fixture
def api(database_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """The app on SQLite and on PostgreSQL (the consumer's upserts differ by dialect)."""
    monkeypatch.setenv("FLOWDESK_WEBHOOK_INTERVAL", "0")
    store = Store.open(database_url)
    store.upgrade()
    try:
        yield from make_api(store, clock, database_url)
    finally:
        store.close()


class Worker:
    """What a worker round does for situations: the consumer, then the actions."""

    def __init__(self, api: Api) -> None:
        self.email = RecordingSender()
        runtime = ProcessRuntime(api.store, clock=api.clock)
        self.consumer = SituationConsumer(api.store, api.clock, recheck=0)
        self.actions = ActionRunner(
            api.store, runtime, clock=api.clock, senders={"email": self.email}
        )

    def round(self) -> None:
        self.consumer.tick()
        self.actions.tick()


def send(api: Api, *events: tuple[str, dict[str, Any]], minutes: float = 0) -> None:
    """CloudEvents as a network or shop system posts them, `minutes` apart in time."""
    body = []
    for type_, data in events:
        n = len(api.store.events.after(0, 100000))
        when = api.clock.now().isoformat()
        body.append(
            {
                "specversion": "1.0",
                "id": f"x-{n}-{len(body)}",
                "source": "/net",
                "type": type_,
                "time": when,
                "data": data,
            }
        )
        if minutes:
            api.clock.advance(timedelta(minutes=minutes))
    headers = {**api.as_("integration"), **BATCH}
    response = api.client.post("/api/v1/events", json=body, headers=headers)
    assert response.status_code == 202, response.text


def situations(api: Api, **query: Any) -> list[dict[str, Any]]:
    response = api.client.get("/api/v1/situations", params=query, headers=api.as_("supervisor"))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["situations"]
    return found


def customer(api: Api, email: str, area: str, products: list[str]) -> str:
    with api.store.unit_of_work() as uow:
        made = create_customer(
            uow=uow, clock=api.clock, identities=[("email", email)], profile={"given_name": email}
        )
        set_service_points(uow.connection, made.id, [(area, p) for p in products])
    return made.id


def test_an_outage_raises_notifies_holds_contacts_and_clears_resuming_every_waiting_case(
    api: Api, tmp_path: Path
) -> None:
    deployed = post_zip(api, zip_folder(write(tmp_path / "outage")))
    assert deployed.status_code == 201, deployed.text
    ann = customer(api, "ann@example.com", "NW-1", ["broadband", "electricity"])
    bob = customer(api, "bob@example.com", "NW-1", ["electricity"])
    customer(api, "cy@example.com", "NW-2", ["broadband"])
    waiting = [api.start("outage_wait", {"area": a})["id"] for a in ("NW-1", "NW-1", "NW-2")]
    worker = Worker(api)

    send(api, *[("network.node_down", {"area": "NW-1", "node": n}) for n in "ab"], minutes=3)
    send(api, ("network.node_down", {"area": "NW-2", "node": "z"}))  # another key
    worker.round()
    assert situations(api) == []  # two in NW-1 so far: a partial window, stored
    send(api, ("network.node_down", {"area": "NW-1", "node": "c"}))
    worker.round()
    (outage,) = situations(api, status="active")
    assert outage["title"] == "Outage in NW-1" and outage["key"] == "NW-1"
    # the proactive message went to the NW-1 customer with broadband only, once
    assert [m.to for m in worker.email.sent] == ["ann@example.com"]
    assert "outage in NW-1" in worker.email.sent[0].text
    assert {a["kind"]: a["status"] for a in outage["actions"]} == {
        "notify_customers": "done",
        "alert": "done",
    }
    service.create_user(
        api.store, api.clock, username="boss", roles=["supervisor"], password=PASSWORD
    )
    login(api.client, "boss")
    board = api.client.get("/supervisor/panel")  # the wallboard shows it
    assert board.status_code == 200 and "Outage in NW-1" in board.text, board.text[:300]
    alerts = [e for e in api.store.events.after(0, 10**6) if e.type == "situation.alert"]
    assert [a.department for a in alerts] == ["network-operations"]

    # a contact from the area about it is attached and answered with the situation's status
    body = {
        "channel": "web",
        "email": "bob@example.com",
        "text": "No internet!",
        "reason": "no-internet",
    }
    made = api.client.post("/api/v1/contacts", json=body, headers=api.as_("integration"))
    assert made.status_code == 201, made.text
    worker.round()
    worker.round()
    (outage,) = situations(api, status="active")
    assert outage["held_contacts"] == [made.json()["contact_id"]], made.json()
    assert sorted(outage["affected_customers"]) == sorted([ann, bob])
    assert [m.to for m in worker.email.sent] == ["ann@example.com", "bob@example.com"]
    assert "Outage in NW-1" in worker.email.sent[1].text

    send(api, ("network.node_down", {"area": "NW-1", "node": "d"}))  # more: updated
    worker.round()
    assert situations(api)[0]["count"] == 2
    assert len(worker.email.sent) == 2  # customers already told are not told again

    send(api, ("network.node_up", {"area": "NW-1"}))
    worker.round()
    worker.round()
    (cleared,) = situations(api)
    assert cleared["status"] == "cleared" and cleared["cleared_at"]
    done = {a["kind"]: a for a in cleared["actions"]}
    assert sorted(done["correlate"]["result"]["instances"]) == sorted(waiting[:2])
    states = [
        api.client.get(f"/api/v1/process-instances/{i}", headers=api.as_("admin")).json()
        for i in waiting
    ]
    assert [s["status"] for s in states] == ["completed", "completed", "active"]
    started = [a for a in cleared["actions"] if a["kind"] == "start_flow"]
    assert sorted(a["customer_id"] for a in started) == sorted([ann, bob])
    # rounds after that find nothing to do
    before = api.store.events.head()
    worker.round()
    assert api.store.events.head() == before


def test_sequence_absence_tumbling_sum_distinct_and_timeout(api: Api, tmp_path: Path) -> None:
    assert post_zip(api, zip_folder(write(tmp_path / "outage"))).status_code == 201
    worker = Worker(api)
    send(
        api,
        ("order.placed", {"order": 1}),
        ("payment.failed", {"order": 1, "amount": 5}),  # filtered out by `where`
        ("order.placed", {"order": 2}),
        ("order.shipped", {"order": 2}),
        ("payment.failed", {"order": 2, "amount": 50}),
        ("sale", {"shop": "a", "amount": 60}),
        ("sale", {"shop": "b", "amount": 60}),
        ("sale", {"shop": "a", "amount": 50}),
        ("device.seen", {"device": "d1"}),
        ("device.seen", {"device": "d1"}),
        ("device.seen", {"device": "d2"}),
        ("device.seen", {"device": "d3"}),
        minutes=1,
    )
    worker.round()
    found = {(s["rule"], s["key"]) for s in situations(api)}
    assert found == {("failed-after-order", "2"), ("revenue", "a"), ("busy-devices", "*")}
    api.clock.advance(timedelta(hours=2))  # no order.shipped for order 1 within two hours
    worker.round()
    active = {(s["rule"], s["key"]) for s in situations(api, status="active")}
    assert ("not-shipped", "1") in active and ("not-shipped", "2") not in active
    assert ("busy-devices", "*") not in active  # timed out after 30 minutes without updates
    timed_out = [s for s in situations(api, status="cleared") if s["rule"] == "busy-devices"]
    assert timed_out[0]["cleared_by"] == "timeout"


def test_bad_patterns_are_refused_on_deploy_with_file_line_and_column(
    api: Api, tmp_path: Path
) -> None:
    broken = PATTERNS.replace("within: PT10M", "within: ten minutes", 1)
    response = post_zip(api, zip_folder(write(tmp_path / "bad", broken)))
    assert response.status_code == 422, response.text
    text = response.text
    assert "patterns/rules.yaml" in text and "ten minutes" in text
    assert '"line":5' in text.replace(" ", "")
    forbidden = api.client.get("/api/v1/situations", headers=api.as_("agent"))
    assert forbidden.status_code == 403
    assert (
        api.client.get("/api/v1/situations?status=maybe", headers=api.as_("admin")).status_code
        == 422
    )


def test_patterns_see_activations_stored_inside_completed_rows(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At history level `activity` an element that starts and ends in one command is one row;
    the consumer reads it as both events, like every other reader of the log."""
    rules = """\
patterns:
  - id: starts
    match:
      threshold: {event: element.activated, at_least: 2, within: PT1H}
"""
    assert post_zip(api, zip_folder(write(tmp_path / "starts", rules))).status_code == 201
    monkeypatch.setenv("FLOWDESK_HISTORY_LEVEL", "activity")
    runtime = ProcessRuntime(api.store, clock=api.clock)
    runtime.start("outage_wait", {"area": "NW-1"})  # start event: activated and completed at once
    compact = [e for e in api.store.events.after(0, 100000) if e.type == "element.completed"]
    assert compact  # the start event's row
    Worker(api).round()
    assert [s["rule"] for s in situations(api)] == ["starts"]  # s, then the catch event
