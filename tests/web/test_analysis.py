"""The process analysis pages on seeded demo history: the list of processes, and for one the
heatmap inline, the conformance figures (the same as the mining API's), deviations, variants;
labelled controls; agents are kept out and unknown processes are a 404 page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import login

from flowdesk.api.app import create_app
from flowdesk.cli.demo import default_demo_dir, load_demo_content
from flowdesk.core.clock import FixedClock
from flowdesk.core.events import NewEvent
from flowdesk.demo.seed import seed
from flowdesk.settings import Settings
from flowdesk.store import Store
from flowdesk.store.service_repo import append_new_events

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
KEY = "billing_dispute"  # the flow with most completed cases in this seed


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path_factory.mktemp('analysis') / 'flowdesk.db'}"
    store = Store.open(url)
    store.upgrade()
    list(load_demo_content(store))
    seed(store, default_demo_dir(), days=3, customers=100, cases_per_day=15, end=NOW)
    app = create_app(Settings(database_url=url), store, FixedClock(NOW))
    try:
        with TestClient(app) as c:
            yield c
    finally:
        store.close()


def test_the_supervisor_nav_leads_to_every_deployed_process(client: TestClient) -> None:
    login(client, "akeller")
    work = client.get("/work").text
    assert '<a href="/analysis">Process analysis</a>' in work
    page = client.get("/analysis")
    assert page.status_code == 200
    links = re.findall(r'<a href="/analysis/([^"]+)">', page.text)
    assert KEY in links and len(links) >= 8


def test_a_process_page_shows_heatmap_fitness_deviations_and_variants(
    client: TestClient,
) -> None:
    login(client, "akeller")
    api = client.get(f"/api/v1/analytics/processes/{KEY}/conformance").json()
    assert api["cases"] > 0
    page = client.get(f"/analysis/{KEY}")
    assert page.status_code == 200, page.text
    html = page.text
    fitness = re.search(r'<span class="kpi-value" data-value="([^"]*)">([^<]*)<', html)
    assert fitness is not None and fitness.group(2) == f"{api['fitness']:.3f}"
    assert re.search(r'<figure class="panel scroll" id="heatmap">.*?<svg ', html, re.S)
    assert 'role="img"' in html and "bpmn-flow-count" in html
    mapped = client.get(f"/api/v1/analytics/processes/{KEY}/map", params={"top": 10}).json()
    rows = re.findall(r'<table id="variants">.*?</table>', html, re.S)[0].count("<tr>") - 1
    assert rows == len(mapped["variants"]) > 0
    first = " → ".join(mapped["variants"][0]["activities"])
    assert first in html.replace("&gt;", ">")
    if api["deviations"]:
        assert '<table id="deviations">' in html
    else:
        assert "No deviations: every replayed case followed the model." in html
    # the measure is a labelled radio group in a form that works without script
    assert "<legend>Tint the diagram by</legend>" in html
    assert re.search(r'<label><input type="radio" name="measure" value="duration"', html)
    durations = client.get(f"/analysis/{KEY}", params={"measure": "duration"}).text
    assert "(mean duration)</title>" in durations and 'value="duration" checked' in durations


@pytest.mark.usefixtures("loose_events")  # a hand-made history
def test_a_case_off_the_model_shows_up_as_a_deviation(client: TestClient) -> None:
    login(client, "akeller")
    before = client.get(f"/api/v1/analytics/processes/{KEY}/conformance").json()
    definition = before["versions"][0]["definition_id"]
    process = client.get(f"/api/v1/process-definitions/{definition}/xml").text
    start = re.search(r'<bpmn:startEvent id="([^"]+)"', process)
    end = re.search(r'<bpmn:endEvent id="([^"]+)"', process)
    assert start and end
    facts = [("process.started", None), ("element.completed", start.group(1))]
    facts += [("element.completed", end.group(1)), ("process.completed", None)]
    events = [
        NewEvent(
            type_,
            NOW,
            {"definition_id": definition, "element_type": "event"},
            process_instance_id="shortcut-1",
            element_id=element,
            id=f"shortcut-{n}",
        )
        for n, (type_, element) in enumerate(facts)
    ]
    assert all(append_new_events(client.app.state.store, events))  # type: ignore[attr-defined]
    html = client.get(f"/analysis/{KEY}").text
    table = re.search(r'<table id="worst-cases">(.*?)</table>', html, re.S)
    assert table is not None and "<code>shortcut-1</code>" in table.group(1)
    assert "ran without being enabled" in table.group(1)
    assert '<table id="deviations">' in html
    # the case's own page: the alignment names every step it skipped
    assert f'href="/analysis/{KEY}/cases/shortcut-1"' in table.group(1)
    page = client.get(f"/analysis/{KEY}/cases/shortcut-1")
    assert page.status_code == 200, page.text
    aligned = client.get(f"/api/v1/analytics/processes/{KEY}/cases/shortcut-1/alignment").json()
    skipped = [m["activity"] for m in aligned["moves"] if m["kind"] == "model"]
    assert skipped and aligned["deviations"] == len(skipped)
    rows = re.findall(r'<tr data-kind="model">.*?<th scope="row">([^<]*)</th>', page.text)
    assert rows == skipped
    assert f"{aligned['deviations']} step(s) differ from the model" in page.text
    assert client.get(f"/analysis/{KEY}/cases/nobody").status_code == 404


def test_agents_are_kept_out_and_unknown_processes_are_404(client: TestClient) -> None:
    login(client, "bokafor")
    assert client.get(f"/analysis/{KEY}").status_code == 403
    assert "Process analysis" not in client.get("/work").text
    login(client, "akeller")
    missing = client.get("/analysis/no_such_flow")
    assert missing.status_code == 404 and "no_such_flow" in missing.text
    assert client.get(f"/analysis/{KEY}", params={"measure": "mood"}).status_code == 400


def test_the_page_sets_a_discovered_model_beside_the_deployed_one_and_draws_handoffs(
    client: TestClient,
) -> None:
    login(client, "akeller")
    base = f"/api/v1/analytics/processes/{KEY}"
    found = client.get(f"{base}/discovery", params={"noise": 0.2}).json()
    handoffs = client.get(f"{base}/handoffs").json()
    html = client.get(f"/analysis/{KEY}").text
    assert re.search(r'id="deployed-model">.*?<svg ', html, re.S)
    assert re.search(r'id="discovered-model">.*?<svg ', html, re.S)
    shown = re.search(r'id="discovered-fitness">.*?data-value="([^"]*)"', html, re.S)
    assert shown is not None and float(shown.group(1)) == pytest.approx(found["fitness"])
    assert f'href="{base}/discovered.bpmn?noise=0.2&amp;miner=inductive"' in html
    # the heuristics miner, chosen on the page: its model and its fitness, its download
    heuristic = client.get(f"{base}/discovery", params={"miner": "heuristic"}).json()
    page = client.get(f"/analysis/{KEY}", params={"miner": "heuristic"}).text
    shown = re.search(r'id="discovered-fitness">.*?data-value="([^"]*)"', page, re.S)
    assert shown is not None and float(shown.group(1)) == pytest.approx(heuristic["fitness"])
    assert '<option value="heuristic" selected>' in page and "(heuristic miner" in page
    assert f'href="{base}/discovered.bpmn?noise=0.2&amp;miner=heuristic"' in page
    assert client.get(f"/analysis/{KEY}", params={"miner": "alpha"}).status_code == 400
    assert handoffs["total"] > 0  # the demo flows run across departments (lanes)
    matrix = re.search(r'id="handoff-matrix">(.*?)</figure>', html, re.S)
    assert matrix is not None and 'role="img"' in matrix.group(1)
    top = handoffs["handoffs"][0]
    assert f"{top['from']} to {top['to']}: {top['count']:,} hand-offs" in matrix.group(1)
    rows = re.findall(r'<table id="handoffs">.*?</table>', html, re.S)[0].count("<tr>") - 1
    assert rows == len(handoffs["handoffs"])
