"""The organisation of the company file, live in routing: driven as people drive it.

The demo is loaded with `flowdesk demo load` (typer's runner), customers are imported with
`flowdesk customers import`, contacts arrive over the REST API and start flows, agents pull
work over the REST API, and the worker's rounds (`WorkerRounds`, the code `flowdesk worker`
and `flowdesk serve` run) escalate on a clock the test moves.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from tests.web.conftest import login
from tests.web.servers import running
from typer.testing import CliRunner

from flowdesk.api.app import create_app
from flowdesk.auth.service import list_users
from flowdesk.cli.main import app as cli
from flowdesk.cli.rounds import WorkerRounds
from flowdesk.core.clock import FixedClock
from flowdesk.demo import COMPANY_DIR
from flowdesk.routing.organisation import Organisation, slug
from flowdesk.routing.service import RoutingService
from flowdesk.settings import Settings
from flowdesk.store import Store
from flowdesk.testing.postgres import free_port

DEMO = COMPANY_DIR
COMPANY = DEMO / "company.yaml"
PASSWORD = "flowdesk-demo"
#: Monday 5 January 2026, 10:00 in Amsterdam: the office (08:00-20:00) is open.
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

CUSTOMERS = [
    {
        "given_name": "Rita",
        "family_name": "Rich",
        "email": "rita@example.com",
        "country": "NL",
        "segment": "premium",
        "value": "4700",
    },
    {
        "given_name": "Paul",
        "family_name": "Poor",
        "email": "paul@example.com",
        "country": "NL",
        "segment": "residential",
        "value": "20",
    },
]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database after `flowdesk demo load` and a customer import (copied per test)."""
    folder = tmp_path_factory.mktemp("org")
    url = f"sqlite:///{folder / 'demo.db'}"
    runner = CliRunner()
    result = runner.invoke(cli, ["demo", "load", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "organisation: 30 routing agents added" in result.output
    again = runner.invoke(cli, ["demo", "load", "--database-url", url])
    assert "0 routing agents added, 0 updated, 30 unchanged" in again.output
    source = folder / "customers.json"
    source.write_text(json.dumps(CUSTOMERS))
    imported = runner.invoke(
        cli, ["customers", "import", str(source), "--no-progress", "--database-url", url]
    )
    assert imported.exit_code == 0, imported.output
    return folder


@pytest.fixture
def url(loaded: Path, tmp_path: Path) -> str:
    for path in loaded.glob("demo.db*"):
        shutil.copy(path, tmp_path / path.name)
    return f"sqlite:///{tmp_path / 'demo.db'}"


class Desk:
    """The REST API of a server running with the demo's company file, on a test clock."""

    def __init__(self, url: str) -> None:
        self.clock = FixedClock(START)
        self.settings = Settings(database_url=url, company_file=str(COMPANY))
        self.store = Store.open(url)
        self.http = TestClient(
            create_app(self.settings, self.store, clock=self.clock),
            raise_server_exceptions=False,
        )
        self.sessions: dict[str, dict[str, str]] = {}

    def as_(self, username: str) -> dict[str, str]:
        """An API key of the user: logged in with the demo password, they create their own."""
        if username not in self.sessions:
            r = self.http.post(
                "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
            )
            assert r.status_code == 200, r.text
            key = self.http.post("/api/v1/api-keys", json={"name": "test"})
            assert key.status_code == 201, key.text
            self.http.cookies.clear()
            self.sessions[username] = {"Authorization": f"Bearer {key.json()['key']}"}
        return self.sessions[username]

    def contact(self, email: str, reason: str) -> str:
        r = self.http.post(
            "/api/v1/contacts",
            json={"channel": "web", "email": email, "reason": reason, "message": "help"},
            headers=self.as_("admin"),
        )
        assert r.status_code == 201, r.text
        assert r.json()["action"] == "started", r.json()
        return str(r.json()["case_reference"])

    def tick(self) -> None:
        r = self.http.post("/api/v1/routing/tick", headers=self.as_("admin"))
        assert r.status_code == 200, r.text

    def queue(self) -> dict[str, dict[str, Any]]:
        """Queued flow work by business key (the case reference)."""
        r = self.http.get("/api/v1/routing/queue?limit=1000", headers=self.as_("admin"))
        assert r.status_code == 200, r.text
        return {e["business_key"]: e for e in r.json() if e["source"] == "work_item"}

    def available(self, username: str) -> None:
        r = self.http.put(
            "/api/v1/routing/agents/me/presence",
            json={"presence": "available"},
            headers=self.as_(username),
        )
        assert r.status_code == 200, r.text

    def pull(self, username: str) -> dict[str, Any] | None:
        r = self.http.post("/api/v1/routing/next", headers=self.as_(username))
        assert r.status_code == 200, r.text
        out: dict[str, Any] | None = r.json()
        return out


@pytest.fixture
def desk(url: str) -> Iterator[Desk]:
    d = Desk(url)
    with d.http:
        yield d
    d.store.close()


def test_the_routing_agents_are_the_thirty_of_the_company_file(desk: Desk) -> None:
    company = yaml.safe_load(COMPANY.read_text())
    r = desk.http.get("/api/v1/routing/agents", headers=desk.as_("admin"))
    assert r.status_code == 200, r.text
    agents = {a["id"]: a for a in r.json()}
    assert set(agents) == {a["username"] for a in company["agents"]}
    assert len(agents) == 30
    for spec in company["agents"]:
        agent = agents[spec["username"]]
        assert agent["skills"] == spec["skills"]
        assert agent["departments"] == [spec["department"]]
        assert agent["languages"] == sorted(spec["languages"])
        assert agent["capacity"] == company["routing"]["capacity"]
        shift = company["shifts"][spec["shift"]]
        assert agent["shift"] == f"{spec['shift']} {shift['start']}-{shift['end']}"
    # the login and the routing agent are one name
    me = desk.http.get("/api/v1/routing/agents/me", headers=desk.as_("kkowalski")).json()
    assert me["skills"] == {"tariffs": 3, "billing-disputes": 3, "collections": 5}
    # an agent is not an administrator of the organisation
    assert desk.http.get("/api/v1/routing/agents", headers=desk.as_("bokafor")).status_code == 403
    departments = desk.http.get("/api/v1/routing/departments", headers=desk.as_("akeller")).json()
    billing = next(d for d in departments if d["id"] == "billing")
    assert "kkowalski" in billing["agents"] and billing["ola_resolve_minutes"] == 2 * 24 * 60


def test_the_admin_use_cases_check_the_input(desk: Desk) -> None:
    admin = desk.as_("admin")
    bad = desk.http.put(
        "/api/v1/routing/agents/bokafor", json={"departments": ["nowhere"]}, headers=admin
    )
    assert bad.status_code == 422 and "nowhere" in bad.json()["detail"]
    too_good = desk.http.put(
        "/api/v1/routing/agents/bokafor", json={"skills": {"moving": 9}}, headers=admin
    )
    assert too_good.status_code == 422
    ok = desk.http.put(
        "/api/v1/routing/agents/bokafor",
        json={"skills": {"identity-verification": 2}, "departments": ["front-office"]},
        headers=admin,
    )
    assert ok.status_code == 200 and ok.json()["skills"] == {"identity-verification": 2}
    lanes = desk.http.get(
        "/api/v1/routing/lanes?lane=Field service&lane=Billing", headers=admin
    ).json()
    assert lanes["Field service"] == "field-service" and lanes["Billing"] == "billing"


def test_a_high_value_customer_gets_an_earlier_due_time_and_a_higher_priority(desk: Desk) -> None:
    rich = desk.contact("rita@example.com", "billing-dispute")
    poor = desk.contact("paul@example.com", "billing-dispute")
    desk.tick()
    queue = desk.queue()
    high, low = queue[rich], queue[poor]
    assert high["element_id"] == low["element_id"] == "explain_bill"
    assert high["department"] == low["department"] == "front-office"
    # premium: first response within 2 business hours; standard: the step's own 4 hours
    assert datetime.fromisoformat(high["due_at"]) == START + timedelta(hours=2)
    assert datetime.fromisoformat(low["due_at"]) == START + timedelta(hours=4)
    assert high["priority"] > low["priority"]
    # value 4700 at 10 EUR a point (capped at 100) and premium churn risk 0.3; 20 EUR: 2 points
    assert high["priority"] - low["priority"] == pytest.approx((100 - 2) + (0.3 - 0.1) * 20)


def test_the_desktop_shows_and_takes_work_in_routings_priority(desk: Desk) -> None:
    poor = desk.contact("paul@example.com", "billing-dispute")  # older, but worth 20 EUR
    rich = desk.contact("rita@example.com", "billing-dispute")
    desk.tick()
    queue = desk.queue()
    # the agent's list: the valuable customer first, with routing's priority and SLA due time
    headers = desk.as_("bokafor")
    login(desk.http, "bokafor")
    page = desk.http.get("/work")
    desk.http.cookies.clear()
    assert page.status_code == 200
    assert page.text.index(rich) < page.text.index(poor)
    assert f">{round(queue[rich]['priority'])}<" in page.text
    assert datetime.fromisoformat(queue[rich]["due_at"]).strftime("%Y-%m-%d %H:%M") in page.text
    # next best work, over REST as on the page, takes the valuable customer's step
    taken = desk.http.post("/api/v1/work-items/next", headers=headers)
    assert taken.status_code == 200, taken.text
    assert taken.json()["kind"] == "work_item"
    assert taken.json()["work_item"]["id"] == queue[rich]["id"]


def test_skilled_work_goes_only_to_agents_with_the_skill(desk: Desk) -> None:
    # account takeover: the security checks need identity-verification (flow.yaml `skills`)
    ref = desk.contact("paul@example.com", "account-takeover")
    desk.tick()
    assert desk.queue()[ref]["element_id"] == "security_checks"
    desk.available("bokafor")  # front office, no identity-verification
    assert desk.pull("bokafor") is None
    desk.tick()  # push: offers go to ready agents; none may reach bokafor
    offers = desk.http.get("/api/v1/routing/offers", headers=desk.as_("bokafor")).json()
    assert offers == []
    desk.available("akeller")  # front office, identity-verification 3
    taken = desk.pull("akeller")
    if taken is None:  # offered to her by the push round instead
        offered = desk.http.get("/api/v1/routing/offers", headers=desk.as_("akeller")).json()
        assert [o["business_key"] for o in offered] == [ref]
    else:
        assert taken["business_key"] == ref and taken["agent"] == "akeller"


LANE_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="d" targetNamespace="urn:test">
  <bpmn:process id="lane_check" isExecutable="true">
    <bpmn:laneSet id="ls">
      <bpmn:lane id="lane_b" name="Billing"><bpmn:flowNodeRef>check</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="check"/>
    <bpmn:userTask id="check" name="Check the account"/>
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="e"/>
    <bpmn:endEvent id="e"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_lane_billing_reaches_the_billing_department_by_id(desk: Desk) -> None:
    admin = desk.as_("admin")
    deployed = desk.http.post(
        "/api/v1/deployments",
        files=[("files", ("lane_check.bpmn", LANE_BPMN.encode(), "application/xml"))],
        headers=admin,
    )
    assert deployed.status_code == 201, deployed.text
    started = desk.http.post(
        "/api/v1/process-instances",
        json={"process_key": "lane_check", "business_key": "LANE-1"},
        headers=admin,
    )
    assert started.status_code == 201, started.text
    desk.tick()
    entry = desk.queue()["LANE-1"]
    assert entry["department"] == "billing"
    desk.available("bokafor")  # front office: not theirs
    assert desk.pull("bokafor") is None
    desk.available("lmurphy")  # registered once, under "billing" only
    assert desk.http.get("/api/v1/routing/agents/me", headers=desk.as_("lmurphy")).json()[
        "departments"
    ] == ["billing"]
    taken = desk.pull("lmurphy")
    assert taken is not None and taken["business_key"] == "LANE-1"


def test_an_escalation_ladder_of_the_company_file_fires_on_the_worker_rounds(desk: Desk) -> None:
    ref = desk.contact("paul@example.com", "billing-dispute")
    rounds = WorkerRounds(desk.store, desk.settings, name="test", notify=False, clock=desk.clock)
    rounds.tick()  # the flow's work reaches the queue: standard policy, 4 business hours
    entry = desk.queue()[ref]
    before = entry["priority"]

    def escalations() -> list[dict[str, Any]]:
        return [
            e.data
            for e in desk.store.events.after(0, 100_000)
            if e.type == "sla.escalated" and e.data["work_item_id"] == entry["id"]
        ]

    desk.clock.advance(hours=3)  # 75 % of the target used: nothing yet
    rounds.tick()
    assert escalations() == []
    desk.clock.advance(minutes=15)  # 81 %: the team lead is told
    rounds.tick()
    assert [(e["action"], e["at"]) for e in escalations()] == [("notify", 0.8)]
    desk.clock.advance(hours=1)  # breached: the work jumps the queue by 100
    rounds.tick()
    fired = escalations()
    assert [(e["action"], e["at"]) for e in fired] == [("notify", 0.8), ("raise_priority", 1.0)]
    assert fired[0]["policy"] == "org/standard/billing_dispute/explain_bill"
    after = desk.queue()[ref]["priority"]
    assert after >= before + 100


def test_the_lane_rule() -> None:
    org = Organisation.from_company(
        {
            "departments": [
                {"id": "billing", "name": "Billing", "ola": {"pickup": "PT1H", "resolve": "P1D"}},
                {
                    "id": "field-service",
                    "name": "Technicians",
                    "ola": {"pickup": "PT1H", "resolve": "P1D"},
                    "lanes": ["Engineers on the road"],
                },
            ],
            "agents": [],
            "sla_policies": [],
            "calendars": [],
        }
    )
    assert org.department_for("Billing") == "billing"
    assert org.department_for("billing") == "billing"
    assert org.department_for("Field Service") == "field-service"  # slug of the lane
    assert org.department_for("technicians") == "field-service"  # the department's name
    assert org.department_for("Engineers on the road") == "field-service"  # explicit
    assert org.department_for("Legal") == "Legal"  # a queue of its own
    assert slug("Network  operations!") == "network-operations"


def test_serve_with_a_company_file_puts_its_organisation_into_routing(tmp_path: Path) -> None:
    """`flowdesk serve` (no demo) with FLOWDESK_COMPANY_FILE: the agents are routing agents
    with logins of the same name (no password: an administrator sets it), before it answers."""
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    port = free_port()
    env = dict(
        os.environ,
        FLOWDESK_DATABASE_URL=url,
        FLOWDESK_COMPANY_FILE=str(COMPANY),
        FLOWDESK_EMBEDDED_WORKER="false",
        FLOWDESK_WEBHOOK_INTERVAL="0",
    )
    command = [sys.executable, "-m", "flowdesk.cli.main", "serve", "--no-demo", "--port", str(port)]
    with running(command, f"http://127.0.0.1:{port}", env=env):
        store = Store.open(url)
        try:
            agents = RoutingService(store).agents()
            users = {u.username: u for u in list_users(store)}
        finally:
            store.close()
    company = yaml.safe_load(COMPANY.read_text())
    assert {a["id"] for a in agents} == {a["username"] for a in company["agents"]}
    assert users["kkowalski"].groups == ("billing",)
    assert "supervisor" in users["kkowalski"].roles and "admin" not in users


def test_every_skilled_demo_step_has_agents_who_can_take_it() -> None:
    """A step whose skills no agent of its department has would wait forever: for every
    demo task with `skills`, at least two agents of its candidate group have them."""
    from flowdesk.experience.loader import load_bundle

    org = Organisation.from_company(yaml.safe_load(COMPANY.read_text()))
    skilled = 0
    for folder in sorted(p.parent for p in DEMO.glob("*/flow.yaml")):
        bundle = load_bundle(folder)
        groups = {
            m.group(1): m.group(2)
            for bpmn in folder.glob("*.bpmn")
            for m in re.finditer(
                r'userTask id="([^"]+)"[^>]*candidateGroups="([^"]+)"', bpmn.read_text()
            )
        }
        for task_id, task in bundle.tasks.items():
            if not task.skills:
                continue
            skilled += 1
            able = [
                a.username
                for a in org.agents
                if a.department == groups[task_id]
                and all(a.skills.get(s, 0) >= level for s, level in task.skills.items())
            ]
            assert len(able) >= 2, (folder.name, task_id, task.skills, able)
    assert skilled >= 8


def test_a_transfer_to_a_department_by_its_name_reaches_its_agents(desk: Desk) -> None:
    ref = desk.contact("paul@example.com", "billing-dispute")
    desk.tick()
    entry = desk.queue()[ref]
    moved = desk.http.post(
        f"/api/v1/routing/items/{entry['id']}/transfer",
        json={"department": "Billing", "reason": "a charge to correct"},
        headers=desk.as_("akeller"),
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["department"] == "billing"
    desk.available("njansen")
    taken = desk.pull("njansen")
    assert taken is not None and taken["business_key"] == ref


def test_a_bad_organisation_names_each_problem_with_its_line(tmp_path: Path) -> None:
    from flowdesk.experience.company import load_company
    from flowdesk.experience.errors import BundleError

    text = COMPANY.read_text()
    text = text.replace(
        "ola: {pickup: PT15M, resolve: PT8H}",
        "ola: {pickup: PT15M, resolve: PT8H, escalations: [{at: 1, action: reassign,"
        " department: nowhere}]}\n    lanes: [Billing desk]",
        1,
    )
    text = text.replace(
        "    channels: [email, letter, phone]",
        "    channels: [email, letter, phone]\n    lanes: [Billing desk]",
        1,
    )
    bad = tmp_path / "company.yaml"
    bad.write_text(text)
    with pytest.raises(BundleError) as caught:
        load_company(bad)
    problems = {(i.field, i.message) for i in caught.value.issues}
    assert (
        "departments.0.ola.escalations.0.department",
        "unknown department 'nowhere'",
    ) in problems
    assert (
        "departments.1.lanes.0",
        "lane 'Billing desk' is already mapped to department 'front-office'",
    ) in problems
    assert all(i.line for i in caught.value.issues)
