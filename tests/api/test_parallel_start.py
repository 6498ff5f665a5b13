# ruff: noqa: E501
"""Parallel multiple start events through the REST API, from the words of BPMN 2.0.2:
10.5.2 (Start Event, Parallel Multiple): "all of the triggers must occur before the Process is
instantiated"; 13.5 (Process Instantiation): "the Process is instantiated only when all of
the Events have occurred". Each trigger is held durably (per correlation key) until the set is
complete, then consumed once. Runs on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.api.test_service_api import Api, make_api

from flowdesk.api.app import create_app
from flowdesk.core.clock import FixedClock
from flowdesk.engine.testing import wrap
from flowdesk.settings import Settings
from flowdesk.store import Store
from flowdesk.store.eventlog import EventLog

CLAIM = wrap(
    """
    <bpmn:startEvent id="all_in" parallelMultiple="true"><bpmn:messageEventDefinition messageRef="m_docs"/><bpmn:messageEventDefinition messageRef="m_pay"/><bpmn:signalEventDefinition signalRef="sig_open"/></bpmn:startEvent>
    <bpmn:userTask id="review" name="Review the claim"/>
    <bpmn:sequenceFlow id="f0" sourceRef="all_in" targetRef="review"/>
    """,
    process_id="claim",
    extra=(
        '<bpmn:message id="m_docs" name="documents"/><bpmn:message id="m_pay" name="payment"/>'
        '<bpmn:signal id="sig_open" name="branch-open"/>'
    ),
)


@pytest.fixture
def api(
    store: Store, clock: FixedClock, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Api]:
    monkeypatch.setenv("FLOWDESK_WEBHOOK_INTERVAL", "0")
    yield from make_api(store, clock, database_url)


def _instances(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/api/v1/process-instances?process_key=claim", headers=headers)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


def test_a_parallel_multiple_start_event_instantiates_only_after_all_its_triggers(
    api: Api, database_url: str
) -> None:
    deployed = api.deploy(("claim.bpmn", CLAIM))
    assert deployed.status_code == 201, deployed.text
    headers, admin = api.as_("integration"), api.as_("admin")

    def send(name: str, key: str | None, **variables: Any) -> Any:
        body = {"name": name, "correlationKey": key, "variables": variables}
        response = api.client.post("/api/v1/messages", json=body, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    # one trigger: held, not buffered, and no instance exists yet
    assert send("documents", "C-1", pages=3) == {"instances": [], "buffered": False, "held": True}
    assert send("documents", "C-2", pages=7) == {"instances": [], "buffered": False, "held": True}
    assert send("payment", "C-1", amount=50)["held"]
    assert _instances(api.client, admin) == []
    signal = api.client.post(
        "/api/v1/signals",
        json={"name": "branch-open", "variables": {"branch": "Lyon"}},
        headers=headers,
    )
    # the last trigger of C-1's set: one instance, with every trigger's payload and the key
    started = signal.json()
    assert started["held"] is False and len(started["instances"]) == 1
    first = api.client.get(
        f"/api/v1/process-instances/{started['instances'][0]}", headers=admin
    ).json()
    assert first["business_key"] == "C-1"
    assert first["variables"] == {"pages": 3, "amount": 50, "branch": "Lyon"}
    assert [w["element_id"] for w in first["work_items"]] == ["review"]

    # each trigger is consumed once: C-1's documents and the signal are gone, so a second
    # payment for C-1 waits again, and C-2 still needs a payment and a signal of its own
    assert send("payment", "C-1", amount=60)["held"]
    assert send("payment", "C-2", amount=70)["held"]
    assert len(_instances(api.client, admin)) == 1

    # held durably: a new server process on the same database completes C-2's set
    app = create_app(Settings(database_url=database_url), api.store, api.clock)
    with TestClient(app) as other:
        done = other.post("/api/v1/signals", json={"name": "branch-open"}, headers=headers).json()
        assert len(done["instances"]) == 1 and not done["held"]
        second = other.get(
            f"/api/v1/process-instances/{done['instances'][0]}", headers=admin
        ).json()
    assert second["business_key"] == "C-2"
    assert second["variables"] == {"pages": 7, "amount": 70}
    assert len(_instances(api.client, admin)) == 2

    history = api.client.get(
        f"/api/v1/process-instances/{first['id']}/history", headers=admin
    ).json()
    assert history[0]["type"] == "process.started"


def test_a_held_trigger_is_recorded_with_the_triggers_still_missing(
    api: Api,
) -> None:
    api.deploy(("claim.bpmn", CLAIM))
    headers = api.as_("integration")
    api.client.post(
        "/api/v1/messages", json={"name": "payment", "correlationKey": "C-9"}, headers=headers
    )
    held = [e for e in EventLog(api.store).after(0, 10_000) if e.type == "start_trigger.held"]
    assert [(e.data["trigger"], e.data["missing"]) for e in held] == [
        ("message:payment", ["message:documents", "signal:branch-open"])
    ]
