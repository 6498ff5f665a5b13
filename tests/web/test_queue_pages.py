"""The agent's queue in pages, filtered by the database: on SQLite and PostgreSQL an agent pages
through exactly their groups' claimable work in priority order, a transferred item follows its
new department, and the API's work-item list pages the same way."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from flowdesk.api.app import create_app
from flowdesk.app.work import QUEUE_PAGE
from flowdesk.auth import service as auth
from flowdesk.cli.demo import load_demo_content
from flowdesk.core.clock import SystemClock
from flowdesk.routing.service import RoutingService
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.settings import Settings
from flowdesk.store import Store
from flowdesk.store.processes import ProcessRepository

PASSWORD = "queue-pass-1234"
DEMO_PASSWORD = "flowdesk-demo"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def queue_store(database_url: str) -> Iterator[tuple[str, Store]]:
    store = Store.open(database_url)
    store.upgrade()
    list(load_demo_content(store))
    for name, groups in (("pat.pager", ["qa-paging"]), ("olly.other", ["qa-other"])):
        auth.create_user(
            store,
            SystemClock(),
            username=name,
            roles=["agent"],
            groups=groups,
            password=PASSWORD,
        )
    try:
        yield database_url, store
    finally:
        store.close()


def insert_items(store: Store, rows: list[dict[str, Any]]) -> None:
    with store.reading() as conn:
        definition = ProcessRepository(conn).latest_definition_id("complaint")
    assert definition
    full = [
        {
            "instance_id": f"inst-{r['id']}",
            "definition_id": definition,
            "process_key": "complaint",
            "element_id": "register_complaint",
            "name": f"Task {r['id']}",
            "lane": None,
            "assignee": None,
            "candidate_groups": [],
            "candidate_users": [],
            "form_key": None,
            "due_at": None,
            "priority": None,
            "status": "open",
            **r,
        }
        for r in rows
    ]
    with store.unit_of_work() as uow:
        ProcessRepository(uow.connection).insert_work_items(full)


def login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert token
    response = client.post(
        "/login",
        data={"csrf": token.group(1), "username": username, "password": password},
        follow_redirects=False,
    )
    assert response.status_code == 303


def shown(html: str) -> list[str]:
    return re.findall(r'data-item="([^"]+)"', html)


def test_agent_pages_through_exactly_their_claimable_work_in_priority_order(
    queue_store: tuple[str, Store],
) -> None:
    url, store = queue_store
    expected: list[tuple[int, datetime, str]] = []
    rows: list[dict[str, Any]] = []
    for n in range(QUEUE_PAGE + 12):
        created = T0 + timedelta(minutes=(n * 37) % 101)
        priority = n % 4
        rows.append(
            {
                "id": f"q{n:03d}",
                "candidate_groups": ["qa-paging"],
                "priority": priority,
                "created_at": created,
            }
        )
        expected.append((-priority, created, f"q{n:03d}"))
    # the agent's own claimed item, one offered by name, one by lane only: all in the queue
    rows.append(
        {
            "id": "mine",
            "assignee": "pat.pager",
            "candidate_groups": ["qa-other"],
            "priority": 9,
            "created_at": T0,
        }
    )
    rows.append({"id": "named", "candidate_users": ["pat.pager"], "created_at": T0})
    rows.append({"id": "lane", "lane": "qa-paging", "priority": 1, "created_at": T0})
    # not theirs: claimed by someone else, another group, closed
    rows.append(
        {
            "id": "taken",
            "assignee": "olly.other",
            "candidate_groups": ["qa-paging"],
            "priority": 9,
            "created_at": T0,
        }
    )
    rows.append({"id": "other", "candidate_groups": ["qa-other"], "priority": 9, "created_at": T0})
    rows.append(
        {"id": "closed", "candidate_groups": ["qa-paging"], "status": "completed", "created_at": T0}
    )
    # a group name that only contains the agent's group as a substring is not theirs
    rows.append(
        {
            "id": "lookalike",
            "candidate_groups": ["qa-paging-x", "xqa-paging"],
            "priority": 9,
            "created_at": T0,
        }
    )
    insert_items(store, rows)
    expected += [(-9, T0, "mine"), (-1, T0, "lane")]
    expected.append((1, T0, "named"))  # no priority: after every prioritised item
    order = [i for *_, i in sorted(expected)]

    with TestClient(create_app(Settings(database_url=url), store)) as client:
        login(client, "pat.pager")
        first = client.get("/work")
        assert first.status_code == 200
        assert shown(first.text) == order[:QUEUE_PAGE]
        assert 'href="/work?page=2"' in first.text and "Previous page" not in first.text
        second = client.get("/work?page=2").text
        assert shown(second) == order[QUEUE_PAGE:]
        assert 'href="/work?page=1"' in second and "Next page" not in second
        past = client.get("/work?page=9")
        assert past.status_code == 200 and shown(past.text) == []
        assert "past the end of your queue" in past.text
        for bad in ("abc", "-1", "0", "99999999999", "1e3"):
            response = client.get(f"/work?page={bad}")
            assert response.status_code == 200, bad
            assert shown(response.text) == order[:QUEUE_PAGE], bad
        # the API pages the same visibility (without the claimable filter: its own contract)
        api = client.get("/api/v1/work-items", params={"limit": 10, "offset": 5})
        assert api.status_code == 200
        visible_order = [i for *_, i in sorted([*expected, (-9, T0, "taken")])]
        assert [r["id"] for r in api.json()] == visible_order[5:15]
        group = client.get("/api/v1/work-items", params={"candidate_group": "qa-paging-x"})
        assert [r["id"] for r in group.json()] == []


def test_a_transferred_item_follows_its_new_department(queue_store: tuple[str, Store]) -> None:
    url, store = queue_store
    runtime = ProcessRuntime(store)
    items = []
    for reference in ("FD-QMOVE", "FD-QSTAY"):
        state = runtime.start("complaint", {"customerName": "Al Move"}, business_key=reference)
        items.append(runtime.work_items(instance_id=state.id)[0]["id"])
    moving, staying = items
    routing = RoutingService(store)
    routing.sync()
    routing.transfer(moving, reason="a billing question", department="billing", actor="test")
    with TestClient(create_app(Settings(database_url=url), store)) as client:
        login(client, "lmurphy", DEMO_PASSWORD)  # billing
        assert shown(client.get("/work").text) == [moving]
        login(client, "bokafor", DEMO_PASSWORD)  # front office
        assert shown(client.get("/work").text) == [staying]
