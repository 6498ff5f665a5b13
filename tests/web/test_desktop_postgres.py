"""The desktop's new SQL on PostgreSQL: the queue's due-time expression (epoch of the item's own
due time, else created + the step's SLA) behind the overdue filter and the due sort, the case
and customer search with its visibility, and the conversation: the same answers as on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import login
from tests.web.test_desktop import desk_app, email_case

from flowdesk.cli.demo import load_demo_content
from flowdesk.core.clock import FixedClock, SystemClock
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    store = Store.open(pg_url)
    store.upgrade()
    list(load_demo_content(store))
    try:
        yield store
    finally:
        store.close()


def test_queue_search_and_conversation_on_postgresql(pg_store: Store, pg_url: str) -> None:
    now = SystemClock().now()
    made = {}
    for key, flow, hours in (
        ("old", "moving_house", 3),
        ("late", "outage_restoration", 2),
        ("new", "complaint", 1),
    ):
        runtime = ProcessRuntime(pg_store, clock=FixedClock(now - timedelta(hours=hours)))
        state = runtime.start(flow, {"customerName": f"Pia {key}"}, business_key=f"FD-PG{key}")
        item = runtime.work_items(instance_id=state.id)[0]
        runtime.claim(item["id"], "enovak")
        made[key] = item["id"]
    case = email_case(pg_store)
    with TestClient(desk_app(pg_url, pg_store)) as client:
        login(client, "enovak")

        def order(**params: str) -> list[str]:
            page = client.get("/work", params={"scope": "mine", **params}).text
            return sorted(made, key=lambda k: page.find(f'data-item="{made[k]}"'))

        assert order(sort="age") == ["old", "late", "new"]
        assert order(sort="due") == ["late", "new", "old"]
        overdue = client.get("/work", params={"scope": "mine", "overdue": "1"}).text
        assert made["late"] in overdue and made["new"] not in overdue
        found = client.get("/api/v1/search", params={"q": case["reference"]}).json()
        assert [c["reference"] for c in found["cases"]] == [case["reference"]]
        by_mail = client.get("/api/v1/search", params={"q": case["address"].upper()}).json()
        assert [c["name"] for c in by_mail["customers"]] == [case["name"]]
        talk = client.get(f"/api/v1/work-items/{case['item']}/conversation").json()
        assert [m["direction"] for m in talk["messages"]] == ["in"]
        assert "Case opened from email" in [m["text"] for m in talk["timeline"]]
