"""Discovery and hand-offs through the API: a model mined from the refunds run through the API
fits them (fitness 1.0 with noise 0), downloads as BPMN that deploys as a flow of its own, and
the department hand-off matrix of hand-made instances counts hand-offs, waits and rework."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from tests.analytics.test_conformance_api import BASE, legacy_case, problem, run_refund
from tests.api.test_service_api import Api, make_api
from tests.runtime.conftest import DATA

from flowdesk.core.clock import FixedClock
from flowdesk.core.events import NewEvent
from flowdesk.store import Store
from flowdesk.store.service_repo import append_new_events


@pytest.fixture
def api(
    store: Store, clock: FixedClock, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Api]:
    monkeypatch.setenv("FLOWDESK_WEBHOOK_INTERVAL", "0")
    yield from make_api(store, clock, database_url)


def departmental_case(api: Api, case: str, steps: list[tuple[str, str, int]]) -> None:
    """A finished refund instance whose user tasks ran in departments, `minutes` apart."""
    time = api.clock.now()
    events = [
        NewEvent(
            "process.started",
            time,
            {"definition_id": "refund:1"},
            process_instance_id=case,
            id=f"{case}-s",
        )
    ]
    for n, (element, department, minutes) in enumerate(steps):
        time += timedelta(minutes=minutes)
        events.append(
            NewEvent(
                "element.completed",
                time,
                {"definition_id": "refund:1", "element_type": "userTask", "element_name": element},
                process_instance_id=case,
                element_id=element,
                department=department,
                id=f"{case}-{n}",
            )
        )
    events.append(
        NewEvent(
            "process.completed",
            time,
            {"definition_id": "refund:1"},
            process_instance_id=case,
            id=f"{case}-e",
        )
    )
    assert all(append_new_events(api.store, events))


@pytest.mark.usefixtures("loose_events")
def test_discovered_model_fits_downloads_and_deploys_and_handoffs_are_counted(api: Api) -> None:
    assert api.deploy(("refund.bpmn", (DATA / "refund.bpmn").read_bytes())).status_code == 201
    headers = api.as_("supervisor")
    assert problem(api.client.get(f"{BASE}/refund/discovery", headers=headers), 404)
    for amount in (50, 500, 80):
        run_refund(api, amount)

    found = api.client.get(f"{BASE}/refund/discovery", params={"noise": 0}, headers=headers)
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["cases"] == 3 and body["fitness"] == 1.0, body and body["fitting_cases"] == 3
    assert body["deployed_fitness"] == 1.0 and body["process_id"] == "refund-discovered"
    assert body["tasks"] >= 3 and body["deviations"] == []
    assert problem(
        api.client.get(f"{BASE}/refund/discovery", params={"noise": 1.5}, headers=headers), 422
    )

    # lifecycle: completions by default; every event (starts too) the way pm4py counts
    done = api.client.get(f"{BASE}/refund/map", headers=headers).json()
    both = api.client.get(f"{BASE}/refund/map", params={"all_events": 1}, headers=headers).json()
    assert (done["lifecycle"], both["lifecycle"]) == ("complete", "all")
    assert both["events"] > done["events"] and both["cases"] == done["cases"] == 3
    assert ("Capture request", "Capture request") in {(e["from"], e["to"]) for e in both["edges"]}
    assert all(e["from"] != e["to"] for e in done["edges"])

    bpmn = api.client.get(f"{BASE}/refund/discovered.bpmn", headers=headers)
    assert bpmn.status_code == 200
    assert 'filename="refund-discovered.bpmn"' in bpmn.headers["content-disposition"]
    assert "<bpmndi:BPMNShape" in bpmn.text and "<bpmndi:BPMNEdge" in bpmn.text
    deployed = api.deploy(("refund-discovered.bpmn", bpmn.content))
    assert deployed.status_code == 201, deployed.text
    keys = {d["key"] for d in deployed.json()["definitions"]}
    assert keys == {"refund-discovered"}
    # the heuristics miner: the same cases, its own model, deployable as well
    params = {"noise": 0, "miner": "heuristic"}
    heuristic = api.client.get(f"{BASE}/refund/discovery", params=params, headers=headers)
    assert heuristic.status_code == 200, heuristic.text
    assert heuristic.json()["miner"] == "heuristic" and heuristic.json()["fitness"] == 1.0
    bpmn = api.client.get(f"{BASE}/refund/discovered.bpmn", params=params, headers=headers)
    assert bpmn.status_code == 200
    assert api.deploy(("refund-heuristic.bpmn", bpmn.content)).status_code == 201
    unknown = {"miner": "alpha"}
    assert problem(api.client.get(f"{BASE}/refund/discovery", params=unknown, headers=headers), 422)
    assert problem(
        api.client.get(f"{BASE}/refund/discovered.bpmn", params=unknown, headers=headers), 422
    )

    departmental_case(
        api,
        "dept-1",
        [
            ("capture", "Front", 5),
            ("approve", "Back", 60),
            ("capture", "Front", 30),
            ("issue", "Finance", 120),
        ],
    )
    departmental_case(api, "dept-2", [("capture", "Front", 5), ("approve", "Back", 20)])
    matrix = api.client.get(f"{BASE}/refund/handoffs", headers=headers)
    assert matrix.status_code == 200, matrix.text
    report = matrix.json()
    assert report["departments"][:3] == ["Front", "Back", "Finance"]
    cells = {(c["from"], c["to"]): c for c in report["handoffs"]}
    assert set(cells) == {("Front", "Back"), ("Back", "Front"), ("Front", "Finance")}
    assert cells[("Front", "Back")]["count"] == 2
    assert cells[("Front", "Back")]["median_wait_seconds"] == pytest.approx(40 * 60)
    assert cells[("Back", "Front")]["rework"] == 1  # legacy-1 went back to the front office
    assert cells[("Front", "Finance")]["rework"] == 0
    assert (report["total"], report["rework"]) == (4, 1)


@pytest.mark.usefixtures("loose_events")
def test_the_alignment_of_one_case_names_the_step_it_skipped(api: Api) -> None:
    assert api.deploy(("refund.bpmn", (DATA / "refund.bpmn").read_bytes())).status_code == 201
    fitting = run_refund(api, 50)
    legacy_case(api)  # never notified the customer
    headers = api.as_("supervisor")
    aligned = api.client.get(f"{BASE}/refund/cases/legacy-1/alignment", headers=headers)
    assert aligned.status_code == 200, aligned.text
    body = aligned.json()
    assert body["definition_id"] == "refund:1" and body["deviations"] == 1
    (skipped,) = [m for m in body["moves"] if m["kind"] != "sync"]
    assert (skipped["kind"], skipped["element_id"]) == ("model", "notify")
    synced = [m["element_id"] for m in body["moves"] if m["kind"] == "sync"]
    assert synced[:3] == ["start", "capture", "issue"] and "crm" in synced
    assert 0.0 < body["fitness"] < 1.0 and body["cost"] >= 10_000
    clean = api.client.get(f"{BASE}/refund/cases/{fitting}/alignment", headers=headers).json()
    assert clean["deviations"] == 0 and clean["fitness"] == 1.0
    assert problem(api.client.get(f"{BASE}/refund/cases/nope/alignment", headers=headers), 404)
    # the heatmap marks where cases deviate and carries fitness and precision
    svg = api.client.get(f"{BASE}/refund/heatmap.svg", headers=headers).text
    report = api.client.get(f"{BASE}/refund/conformance", headers=headers).json()
    assert "Notify customer: 1 (completions); 1 case(s) deviate here" in svg
    assert f"fitness {report['fitness']:.3f}, precision {report['precision']:.3f}" in svg
    assert "✗1" in svg and 0.0 < report["precision"] <= 1.0
