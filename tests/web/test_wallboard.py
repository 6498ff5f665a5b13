"""The supervisor's wallboard: its figures follow what agents and flows do (start, claim,
presence, time passing an SLA), every count drills down to the work behind it, and the actions
on that work (reassign, priority, an agent's presence) give the same answer on the desktop and
the REST API and land in the event log with the supervisor as actor."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.web.conftest import csrf_of, login

from flowdesk.api.app import create_app
from flowdesk.app.organisation import load_organisation, organisation_from
from flowdesk.cli.demo import default_demo_dir, load_demo_content
from flowdesk.core.clock import FixedClock
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.settings import Settings
from flowdesk.store import Store
from flowdesk.store.eventlog import EventLog


@dataclass
class Board:
    app: FastAPI
    store: Store
    clock: FixedClock
    runtime: ProcessRuntime

    def start(self, process_key: str, name: str, reference: str) -> dict[str, Any]:
        state = self.runtime.start(
            process_key, {"customerName": name, "caseRef": reference}, business_key=reference
        )
        return self.runtime.work_items(instance_id=state.id)[0]

    def events(self, kind: str) -> list[Any]:
        return [e for e in EventLog(self.store).iterate() if e.type == kind]


@pytest.fixture
def board(tmp_path: Path) -> Iterator[Board]:
    """A fresh store with the demo company and its agents in routing (all offline), and an app
    whose clock the test moves."""
    url = f"sqlite:///{tmp_path / 'flowdesk.db'}"
    store = Store.open(url)
    store.upgrade()
    list(load_demo_content(store))
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    organisation = organisation_from(default_demo_dir() / "company.yaml")
    assert organisation is not None
    load_organisation(store, clock, organisation)
    try:
        app = create_app(Settings(database_url=url), store, clock)
        yield Board(app, store, clock, ProcessRuntime(store, clock=clock))
    finally:
        store.close()


def _row(html: str, attribute: str, key: str) -> str:
    found = re.search(rf'<tr {attribute}="{re.escape(key)}">(.*?)</tr>', html, re.S)
    assert found, f"no row {key} in the page"
    return found.group(1)


def _cell(row: str, name: str) -> int:
    found = re.search(rf'class="{name}[^"]*"><a [^>]*>(\d+)<', row)
    assert found, f"no {name} in {row}"
    return int(found.group(1))


def _link(row: str, name: str) -> str:
    found = re.search(rf'class="{name}[^"]*"><a href="([^"]+)"', row)
    assert found, f"no link to {name} in {row}"
    return unescape(found.group(1))


def _items(html: str) -> list[str]:
    return re.findall(r'<tr class="[^"]*" data-item="([^"]+)">', html)


def test_figures_follow_the_work_and_drill_down_to_it(board: Board) -> None:
    first = [board.start("complaint", f"Customer {n}", f"FD-WB-{n}") for n in range(3)]
    with TestClient(board.app) as agent:
        login(agent, "bokafor")
        assert agent.put("/api/v1/routing/agents/me/presence", json={"presence": "available"})
        claimed = agent.post(f"/api/v1/work-items/{first[0]['id']}/claim")
        assert claimed.status_code == 200, claimed.text
    board.clock.advance(hours=3, minutes=30)  # the complaints' 4 h SLA ends in 30 minutes
    late_comer = board.start("complaint", "Customer 9", "FD-WB-9")

    with TestClient(board.app) as client:
        login(client, "akeller")
        panel = client.get("/supervisor/panel", headers={"HX-Request": "1"}).text
        front = _row(panel, "data-department", "front-office")
        figures = {k: _cell(front, k) for k in ("open", "unassigned", "assigned", "at-risk")}
        assert figures == {"open": 4, "unassigned": 3, "assigned": 1, "at-risk": 3}
        assert _cell(front, "breached") == 0
        agent_row = _row(panel, "data-agent", "bokafor")
        assert "available" in agent_row and re.search(r'class="assigned">1</span> / 5', agent_row)
        assert "offline" in _row(panel, "data-agent", "enovak")
        # the same figures through the REST API
        api = client.get("/api/v1/routing/wallboard").json()
        dept = next(d for d in api["departments"] if d["name"] == "front-office")
        assert (dept["open"], dept["unassigned"], dept["assigned"], dept["at_risk"]) == (4, 3, 1, 3)
        bokafor = next(a for a in api["agents"] if a["id"] == "bokafor")
        assert (bokafor["presence"], bokafor["assigned"], bokafor["capacity"]) == (
            "available",
            1,
            5,
        )

        # drill down from the unassigned count: the items, with customer, step, due, link
        target = _link(front, "unassigned")
        assert target == "/supervisor/work?department=front-office&state=unassigned"
        listing = client.get(target)
        assert listing.status_code == 200
        shown = _items(listing.text)
        assert sorted(shown) == sorted([first[1]["id"], first[2]["id"], late_comer["id"]])
        assert "Customer 1" in listing.text and "FD-WB-2" in listing.text
        assert f'href="/work/{first[1]["id"]}"' in listing.text
        assert "in 30m" in listing.text and "in 4h 0m" in listing.text
        rest = client.get(
            "/api/v1/routing/wallboard/work",
            params={"department": "front-office", "state": "unassigned"},
        ).json()
        assert [r["id"] for r in rest] == shown
        assert {r["customer"] for r in rest} == {"Customer 1", "Customer 2", "Customer 9"}
        # the agent's load drills down to their work
        mine = client.get(_link(agent_row, "load"))
        assert _items(mine.text) == [first[0]["id"]]
        # an hour later the three first complaints have breached their SLA
        board.clock.advance(hours=1)
        front = _row(client.get("/supervisor").text, "data-department", "front-office")
        assert (_cell(front, "breached"), _cell(front, "at-risk")) == (3, 0)
        breached = client.get(_link(front, "breached")).text
        assert sorted(_items(breached)) == sorted(i["id"] for i in first)
        assert "overdue 30m" in breached
        # an unknown state is refused in words, not a server error
        wrong = client.get("/supervisor/work?state=nope")
        assert wrong.status_code == 422 and "state is one of" in wrong.text
        assert client.get("/api/v1/routing/wallboard/work?state=nope").status_code == 422


def _post(client: TestClient, path: str, token: str, **fields: str) -> Any:
    return client.post(path, data={"csrf": token, **fields}, follow_redirects=False)


def test_reassign_refuses_offline_and_unskilled_agents_on_both_doors(board: Board) -> None:
    complaint = board.start("complaint", "Rita Assign", "FD-WB-20")
    other = board.start("complaint", "Rob Assign", "FD-WB-21")
    takeover = board.start("account_takeover", "Ida Secure", "FD-WB-22")
    assert takeover["element_id"] == "security_checks"  # needs identity-verification
    with TestClient(board.app) as client:
        login(client, "akeller")
        token = csrf_of(client.get("/supervisor/work").text)
        # bokafor is offline (nobody signed in yet): refused on both doors, in the same words
        page = _post(client, f"/supervisor/work/{complaint['id']}/reassign", token, user="bokafor")
        api = client.post(
            f"/api/v1/work-items/{complaint['id']}/reassign", json={"user": "bokafor"}
        )
        message = "bokafor is offline: set them available first, or choose someone else."
        assert page.status_code == 422 and api.status_code == 422
        assert message in unescape(page.text)
        assert api.json()["errors"] == [{"field": "user", "message": message}]
        # the supervisor makes them available from their agent page
        done = _post(client, "/supervisor/agents/bokafor/presence", token, presence="available")
        assert done.status_code == 303
        assert "bokafor is available now." in unescape(client.get(done.headers["location"]).text)
        # a step needing a skill the agent lacks
        lacks = (
            "bokafor lacks the skill identity-verification (needs level 1, has 0) "
            "that Run security checks needs."
        )
        page = _post(client, f"/supervisor/work/{takeover['id']}/reassign", token, user="bokafor")
        api = client.post(f"/api/v1/work-items/{takeover['id']}/reassign", json={"user": "bokafor"})
        assert page.status_code == 422 and lacks in unescape(page.text)
        assert api.status_code == 422 and api.json()["errors"][0]["message"] == lacks
        # nobody chosen, unknown people and items
        empty = _post(client, f"/supervisor/work/{complaint['id']}/reassign", token, user="")
        assert empty.status_code == 422 and "Say whom to give the work to." in empty.text
        nobody = client.post(f"/api/v1/work-items/{complaint['id']}/reassign", json={"user": "zz"})
        assert nobody.status_code == 422 and "zz cannot take work" in nobody.text
        assert (
            _post(client, "/supervisor/work/nope/reassign", token, user="bokafor").status_code
            == 404
        )
        assert (
            client.post("/api/v1/work-items/nope/reassign", json={"user": "bokafor"}).status_code
            == 404
        )
        # accepted on both doors
        page = _post(
            client,
            f"/supervisor/work/{complaint['id']}/reassign",
            token,
            user="bokafor",
            department="front-office",
            state="unassigned",
        )
        assert page.status_code == 303
        assert page.headers["location"].startswith(
            "/supervisor/work?department=front-office&state=unassigned&notice="
        )
        api = client.post(f"/api/v1/work-items/{other['id']}/reassign", json={"user": "bokafor"})
        assert api.status_code == 200 and api.json()["assignee"] == "bokafor"
    with TestClient(board.app) as agent:
        login(agent, "bokafor")
        my_work = agent.get("/work").text
        assert (
            f'data-item="{complaint["id"]}"' in my_work and f'data-item="{other["id"]}"' in my_work
        )
    moves = board.events("work_item.delegated")
    assert [(e.data["work_item_id"], e.data["assignee"], e.actor) for e in moves] == [
        (complaint["id"], "bokafor", "akeller"),
        (other["id"], "bokafor", "akeller"),
    ]


def test_priority_and_presence_answer_the_same_on_both_doors(board: Board) -> None:
    low = board.start("complaint", "Lou Low", "FD-WB-30")
    high = board.start("complaint", "Hal High", "FD-WB-31")
    with TestClient(board.app) as client:
        login(client, "akeller")
        token = csrf_of(client.get("/supervisor/work").text)
        page = _post(client, f"/supervisor/work/{high['id']}/priority", token, priority="90")
        assert page.status_code == 303
        api = client.post(f"/api/v1/work-items/{low['id']}/priority", json={"priority": 60})
        assert api.status_code == 200 and api.json()["priority"] == 60
        # the list is most urgent first, and so is routing's queue (its offers)
        listing = client.get("/supervisor/work?department=front-office").text
        assert _items(listing)[:2] == [high["id"], low["id"]]
        queued = [e["id"] for e in client.get("/api/v1/routing/queue").json()]
        assert queued.index(high["id"]) < queued.index(low["id"])
        message = "Priority is a whole number from 0 to 100 (higher is more urgent)."
        page = _post(client, f"/supervisor/work/{low['id']}/priority", token, priority="500")
        api = client.post(f"/api/v1/work-items/{low['id']}/priority", json={"priority": 500})
        assert page.status_code == 422 and message in page.text
        assert api.status_code == 422 and api.json()["errors"][0]["message"] == message
        assert (
            _post(client, "/supervisor/work/nope/priority", token, priority="5").status_code == 404
        )
        assert (
            client.post("/api/v1/work-items/nope/priority", json={"priority": 5}).status_code == 404
        )
        # presence: the web form and the REST route, the same agent record
        page = _post(client, "/supervisor/agents/enovak/presence", token, presence="away")
        assert page.status_code == 303
        assert client.get("/api/v1/routing/agents/enovak").json()["presence"] == "away"
        api = client.put("/api/v1/routing/agents/enovak/presence", json={"presence": "busy"})
        assert api.status_code == 200 and api.json()["presence"] == "busy"
        agent_page = client.get("/supervisor/work?agent=enovak").text
        assert '<strong id="agent-presence">busy</strong>' in agent_page
        wrong = _post(client, "/supervisor/agents/enovak/presence", token, presence="asleep")
        assert wrong.status_code == 422 and "Presence is one of available" in wrong.text
        assert (
            _post(client, "/supervisor/agents/nope/presence", token, presence="away").status_code
            == 404
        )
        assert (
            client.put(
                "/api/v1/routing/agents/nope/presence", json={"presence": "away"}
            ).status_code
            == 404
        )
    changes = board.events("work_item.priority_changed")
    assert [(e.data["work_item_id"], e.data["priority"], e.actor) for e in changes] == [
        (high["id"], 90, "akeller"),
        (low["id"], 60, "akeller"),
    ]
    boosts = board.events("routing.boosted")
    assert [(e.data["work_item_id"], e.data["by"], e.actor) for e in boosts] == [
        (high["id"], 40, "akeller"),
        (low["id"], 10, "akeller"),
    ]
    presence = [e for e in board.events("agent.presence_changed") if e.data["agent"] == "enovak"]
    assert [(e.data["presence"], e.actor) for e in presence] == [
        ("away", "akeller"),
        ("busy", "akeller"),
    ]


def test_agents_cannot_supervise(board: Board) -> None:
    item = board.start("complaint", "Nora Nope", "FD-WB-40")
    with TestClient(board.app) as client:
        token = login(client, "bokafor")
        assert client.get("/supervisor/work").status_code == 403
        refused = _post(client, f"/supervisor/work/{item['id']}/reassign", token, user="bokafor")
        assert refused.status_code == 403
        api = client.post(f"/api/v1/work-items/{item['id']}/priority", json={"priority": 99})
        assert api.status_code == 403
    assert board.events("work_item.priority_changed") == []


def test_contacts_waiting_for_triage_count_and_drill_down(board: Board) -> None:
    from flowdesk.contacts.intake import Intake

    before = board.start("complaint", "Tia Count", "FD-WB-50")
    result = Intake(board.store, use_model=False).submit(
        "web",
        json.dumps({"email": "zed.unclear@example.com", "message": "Please call me"}).encode(),
    )
    assert result.status == "triage"
    with TestClient(board.app) as client:
        login(client, "akeller")
        assert client.post("/api/v1/routing/tick").status_code == 200  # what the worker does
        front = _row(client.get("/supervisor").text, "data-department", "front-office")
        assert (_cell(front, "triage"), _cell(front, "open"), _cell(front, "unassigned")) == (
            1,
            2,
            2,
        )
        dept = next(
            d
            for d in client.get("/api/v1/routing/wallboard").json()["departments"]
            if d["name"] == "front-office"
        )
        assert (dept["triage"], dept["open"], dept["unassigned"]) == (1, 2, 2)
        waiting = client.get(_link(front, "triage")).text
        assert f'data-contact="{result.contact_id}"' in waiting
        assert f'href="/triage/{result.contact_id}"' in waiting and "Please call me" in waiting
        assert f'data-item="{before["id"]}"' not in waiting
        elsewhere = client.get("/supervisor/work?department=billing&state=triage").text
        assert "No contacts waiting for triage here." in elsewhere
