"""The desktop's reads on PostgreSQL (JSON-as-text search for a customer's cases, routing
departments, supervisor figures): the same answers as on SQLite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from flowdesk.api.app import create_app
from flowdesk.app import casework, supervision
from flowdesk.app.context import Ops
from flowdesk.auth.roles import permissions_of
from flowdesk.auth.service import Principal
from flowdesk.cli.demo import load_demo_content
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.settings import Settings
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


def test_queue_case_and_supervisor_on_postgresql(pg_store: Store, pg_url: str) -> None:
    runtime = ProcessRuntime(pg_store)
    state = runtime.start(
        "complaint",
        {"customerName": "Pat Green", "customerId": "c_42%_", "caseRef": "FD-PG1"},
        business_key="FD-PG1",
    )
    item = runtime.work_items(instance_id=state.id)[0]
    ops = Ops(store=pg_store, clock=runtime.clock, runtime=runtime)
    c360 = casework.customer_360(ops, state.id)
    assert [c["business_key"] for c in c360.cases] == ["FD-PG1"]
    assert any(e.type == "process.started" for e in c360.timeline)
    supervisor = Principal(
        "u1", "akeller", "Ana", ("supervisor",), (), permissions_of(("supervisor",))
    )
    figures = supervision.supervisor_figures(supervisor, ops)
    assert {"name": "front-office", "open": 1, "unassigned": 1}.items() <= next(
        d for d in figures["departments"] if d["name"] == "front-office"
    ).items()
    app = create_app(Settings(database_url=pg_url), pg_store)
    with TestClient(app) as client:
        page = client.get("/login").text
        token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        client.post(
            "/login",
            data={"csrf": token, "username": "bokafor", "password": "flowdesk-demo"},
        )
        assert item["id"] in client.get("/work").text
        case = client.get(f"/work/{item['id']}")
        assert case.status_code == 200 and "FD-PG1" in case.text
