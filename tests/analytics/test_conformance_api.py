"""Conformance, heatmap and process map through the API, on refund instances run through the API
(SQLite and PostgreSQL), plus one legacy instance whose events skip a parallel branch."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from tests.api.test_service_api import Api, make_api
from tests.runtime.conftest import DATA

from flowdesk.core.clock import FixedClock
from flowdesk.core.events import NewEvent
from flowdesk.store import Store
from flowdesk.store.service_repo import append_new_events

BASE = "/api/v1/analytics/processes"


@pytest.fixture
def api(
    store: Store, clock: FixedClock, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Api]:
    monkeypatch.setenv("FLOWDESK_WEBHOOK_INTERVAL", "0")
    yield from make_api(store, clock, database_url)


def run_refund(api: Api, amount: int) -> str:
    """Start a refund and complete its work items, ten minutes of work each, until it ends."""
    instance = str(api.start("refund", {"amount": amount})["id"])
    for _ in range(10):
        items = api.client.get(
            "/api/v1/work-items", params={"process_key": "refund"}, headers=api.as_("admin")
        ).json()
        mine = [i for i in items if i["instance_id"] == instance]
        if not mine:
            return instance
        api.clock.advance(minutes=10)
        done = api.client.post(
            f"/api/v1/work-items/{mine[0]['id']}/complete",
            json={"variables": {}},
            headers=api.as_("admin"),
        )
        assert done.status_code == 200, done.text
    raise AssertionError("the refund did not end")


def legacy_case(api: Api) -> None:
    """A migrated instance that never notified the customer: start, capture, issue, crm, end."""
    time = api.clock.now()
    steps = [("start", "startEvent"), ("capture", "userTask")]
    steps += [("amount_check", "exclusiveGateway"), ("approval_merge", "exclusiveGateway")]
    steps += [("issue", "scriptTask"), ("fork", "parallelGateway"), ("crm", "userTask")]
    steps += [("end", "endEvent")]
    facts: list[tuple[str, str | None, dict[str, Any]]] = [("process.started", None, {})]
    names = {"capture": "Capture request", "issue": "Issue refund", "crm": "Update CRM"}
    for element, kind in steps:
        data = {"element_type": kind}
        if element in names:
            data["element_name"] = names[element]
        for type_ in ("element.activated", "element.completed"):
            facts.append((type_, element, data))
    facts.append(("process.completed", None, {}))
    events = [
        NewEvent(
            type_,
            time + timedelta(seconds=n),
            {"definition_id": "refund:1", **data},
            process_instance_id="legacy-1",
            element_id=element,
            id=f"legacy-{n}",
        )
        for n, (type_, element, data) in enumerate(facts)
    ]
    assert all(append_new_events(api.store, events))


def flow_label(svg: str, flow: str) -> str:
    found = re.search(
        rf'data-element-id="{flow}">.*?<text class="bpmn-flow-count"[^>]*>([^<]*)<', svg
    )
    assert found is not None, flow
    return found.group(1)


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


@pytest.mark.usefixtures("loose_events")  # a hand-made history
def test_conformance_heatmap_and_map_of_a_deployed_process(api: Api) -> None:
    assert api.deploy(("refund.bpmn", (DATA / "refund.bpmn").read_bytes())).status_code == 201
    for amount in (50, 500, 80):
        run_refund(api, amount)
    api.start("refund", {"amount": 20})  # still running: not replayed
    legacy_case(api)
    headers = api.as_("supervisor")

    response = api.client.get(f"{BASE}/refund/conformance", headers=headers)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["key"] == "refund" and report["match"] == "element"
    assert report["cases"] == 4 and report["fitting_cases"] == 3
    assert report["skipped"] == {"running": 1}
    # legacy-1 by hand: start, capture, two exclusive gateways, issue (1 each), fork (c 1, p 2),
    # crm; end has no token (m 1); the end place consumed: produced 10, consumed 9, remaining 2
    # (before notify and on crm's flow into the join)
    (worst,) = report["worst_cases"]
    assert worst["case"] == "legacy-1"
    assert (worst["missing"], worst["remaining"]) == (1, 2)
    assert (worst["produced"], worst["consumed"]) == (10, 9)
    assert worst["fitness"] == pytest.approx(0.5 * (1 - 1 / 9) + 0.5 * (1 - 2 / 10))
    kinds = {(d["kind"], d["element_id"], d["cases"]) for d in report["deviations"]}
    assert kinds == {
        ("not-enabled", "end", 1),
        ("left-over", "notify", 1),
        ("left-over", "join", 1),
    }
    assert report["fitness"] < 1.0 and report["min_case_fitness"] == worst["fitness"]
    (version,) = report["versions"]
    assert version["definition_id"] == "refund:1" and version["cases"] == 4

    svg = api.client.get(f"{BASE}/refund/heatmap.svg", headers=headers)
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    body = svg.text
    assert 'data-element-id="capture"' in body and "fill:#" in body
    assert "<title>Capture request: 4 (completions)</title>" in body
    assert "<title>Supervisor approval: 1 (completions)</title>" in body
    assert flow_label(body, "f_large") == "1"  # the one large refund
    assert flow_label(body, "f_small") == "3"  # 50, 80 and the legacy case
    # the legacy case's token went to notify and waited there; notify never finished
    assert (flow_label(body, "f_notify"), flow_label(body, "f_notify_done")) == ("4", "3")
    assert "bpmn-legend" in body
    durations = api.client.get(
        f"{BASE}/refund/heatmap.svg", params={"measure": "duration"}, headers=headers
    ).text
    assert "<title>Supervisor approval: 10.0m (mean duration)</title>" in durations
    # three captures of ten minutes and the legacy one of a second: 450.25 s on average
    assert "<title>Capture request: 7.5m (mean duration)</title>" in durations

    mapped = api.client.get(f"{BASE}/refund/map", params={"top": 1}, headers=headers)
    assert mapped.status_code == 200, mapped.text
    process_map = mapped.json()
    assert process_map["cases"] == 5  # the running one too: the map shows what happened
    edges = {(e["from"], e["to"]): e["count"] for e in process_map["edges"]}
    assert edges[("Capture request", "Issue refund")] == 3
    assert edges[("Capture request", "Supervisor approval")] == 1
    assert len(process_map["variants"]) == 1 and process_map["variant_count"] >= 3


def test_bad_requests_are_precise_problems(api: Api) -> None:
    api.deploy(("refund.bpmn", (DATA / "refund.bpmn").read_bytes()))
    supervisor = api.as_("supervisor")
    missing = problem(api.client.get(f"{BASE}/nope/conformance", headers=supervisor), 404)
    assert "nope" in missing["detail"]
    problem(api.client.get(f"{BASE}/nope/heatmap.svg", headers=supervisor), 404)
    problem(api.client.get(f"{BASE}/nope/map", headers=supervisor), 404)
    problem(api.client.get(f"{BASE}/refund/heatmap.svg?version=7", headers=supervisor), 404)
    problem(api.client.get(f"{BASE}/refund/heatmap.svg?measure=mood", headers=supervisor), 422)
    problem(api.client.get(f"{BASE}/refund/map?top=0", headers=supervisor), 422)
    problem(api.client.get(f"{BASE}/refund/conformance", headers=api.as_("agent")), 403)
    problem(api.client.get(f"{BASE}/refund/conformance"), 401)
    empty = api.client.get(f"{BASE}/refund/conformance", headers=api.as_("admin")).json()
    assert empty["cases"] == 0 and empty["fitness"] is None
    blank = api.client.get(f"{BASE}/refund/heatmap.svg", headers=supervisor)
    assert blank.status_code == 200 and "no values in the log" in blank.text


def test_the_routes_are_documented(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    conformance = spec["paths"][f"{BASE}/{{key}}/conformance"]["get"]
    assert conformance["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Conformance"
    }
    assert "404" in conformance["responses"]
    heatmap = spec["paths"][f"{BASE}/{{key}}/heatmap.svg"]["get"]
    assert "image/svg+xml" in heatmap["responses"]["200"]["content"]
    assert {p["name"] for p in heatmap["parameters"]} >= {"key", "measure", "version"}
    assert "ProcessMap" in spec["components"]["schemas"]
