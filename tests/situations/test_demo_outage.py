"""The demo's area outage end to end: Northwind's bundle with its pattern file, customers with
areas and products, three node-down CloudEvents, a case waiting for its area, then node-up and
the compensation flow it starts for every affected customer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from tests.api.test_service_api import Api, make_api
from tests.situations.test_situations_api import BATCH, Worker, situations

from flowdesk.app import selfservice
from flowdesk.app.context import Ops
from flowdesk.cli.demo import default_demo_dir
from flowdesk.core.clock import FixedClock
from flowdesk.customers.models import customers
from flowdesk.customers.registry import create_customer
from flowdesk.demo.outages import assign_service_points, service_of
from flowdesk.experience.service import deploy_bundle
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store
from flowdesk.store.process_tables import process_instances


@pytest.fixture
def api(sqlite_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setenv("FLOWDESK_WEBHOOK_INTERVAL", "0")
    store = Store.open(sqlite_url)
    store.upgrade()
    folder: Path = default_demo_dir() / "outage-restoration"
    deploy_bundle(ProcessRuntime(store, clock=clock), store, folder, actor="demo")
    try:
        yield from make_api(store, clock, sqlite_url)
    finally:
        store.close()


def test_northwind_area_outage(api: Api) -> None:
    ids = []
    with api.store.unit_of_work() as uow:
        for n in range(30):
            made = create_customer(
                uow=uow, clock=api.clock, identities=[("email", f"c{n}@example.nl")]
            )
            ids.append(made.id)
    assign_service_points(api.store)
    broadband = [i for i in ids if "broadband" in service_of(i)[1]]
    # the area with the most broadband customers (ids are random: pigeonhole gives two or more)
    area = max(
        sorted({service_of(i)[0] for i in broadband}),
        key=lambda a: sum(service_of(i)[0] == a for i in broadband),
    )
    told = {i for i in broadband if service_of(i)[0] == area}
    assert len(told) >= 2  # customers with broadband in that area
    business = sorted(told)[-1]  # its credit follows its contract: billing approves it
    with api.store.unit_of_work() as uow:
        uow.connection.execute(
            update(customers).where(customers.c.id == business).values(segment="business")
        )
    # a fault report already waiting for the area to be restored
    runtime = ProcessRuntime(api.store, clock=api.clock)
    someone = sorted(told)[0]
    case = runtime.start("outage_restoration", {"customerId": someone})
    (triage,) = runtime.work_items(instance_id=case.id)
    runtime.complete_work_item(
        triage["id"], {"serviceType": "broadband", "areaOutage": True, "outageArea": area}
    )
    (link,) = runtime.work_items(instance_id=case.id)
    runtime.complete_work_item(link["id"], {"priorityCustomer": False})
    assert runtime.work_items(instance_id=case.id) == []  # waiting for area-restored

    worker = Worker(api)
    headers = {**api.as_("integration"), **BATCH}

    def node(kind: str, name: str) -> None:
        body = [
            {
                "specversion": "1.0",
                "id": f"{kind}-{name}",
                "source": "/northwind/network",
                "type": f"network.{kind}",
                "time": api.clock.now().isoformat(),
                "data": {"area": area, "node": name},
            }
        ]
        assert api.client.post("/api/v1/events", json=body, headers=headers).status_code == 202
        api.clock.advance(timedelta(minutes=2))

    for name in "abc":
        node("node_down", name)
    worker.round()
    (outage,) = situations(api, status="active")
    assert outage["title"] == f"Broadband outage in area {area}"
    assert {m.to for m in worker.email.sent} == {f"c{ids.index(i)}@example.nl" for i in told}
    assert all("reference" in m.text for m in worker.email.sent)
    # the customer's status page says Flowdesk knows about it
    ops = Ops(api.store, api.clock, runtime)
    shown = selfservice.view(ops, runtime.instance(case.id))["texts"]
    assert shown[0] == f"We know about it: Broadband outage in area {area}. We are working on it."
    api.clock.advance(timedelta(hours=3))  # a three-hour outage: a 10 EUR credit, no approval
    node("node_up", "a")
    worker.round()
    worker.round()
    (cleared,) = situations(api)
    assert cleared["status"] == "cleared"
    assert runtime.instance(case.id).status == "active"  # resumed: confirm restoration next
    (confirm,) = runtime.work_items(instance_id=case.id)
    assert confirm["element_id"] == "confirm_restoration"
    restored = [m for m in worker.email.sent if "works again" in m.text]
    assert len(restored) == len(told)
    # the compensation flow started once per affected customer: 10 EUR for a three-hour
    # outage, told at once; the business customer's 40 EUR waits for billing's approval
    with api.store.reading() as conn:
        found = conn.execute(
            select(process_instances.c.id).where(
                process_instances.c.process_key == "outage_compensation"
            )
        ).scalars()
        compensations = {runtime.instance(i).vars["customerId"]: i for i in found}
    assert sorted(compensations) == sorted(told)
    for customer_id, instance_id in compensations.items():
        state = runtime.instance(instance_id)
        if customer_id == business:
            assert state.vars["credit"]["amount"] == 40 and state.status == "active"
            (approval,) = runtime.work_items(instance_id=instance_id)
            assert approval["element_id"] == "approve_credit"
            assert approval["candidate_groups"] == ["billing"]
        else:
            assert state.vars["credit"]["amount"] == 10 and state.status == "completed"
    credited = sorted(m.to for m in worker.email.sent if "we credit 10 EUR" in m.text)
    assert credited == sorted(f"c{ids.index(i)}@example.nl" for i in told if i != business)
    worker.round()  # nothing twice
    assert len([m for m in worker.email.sent if "we credit" in m.text]) == len(told) - 1
    runtime.complete_work_item(approval["id"], {"creditApproved": True})
    worker.round()  # approved: the business customer is told too
    (told_40,) = [m for m in worker.email.sent if "we credit 40 EUR" in m.text]
    assert told_40.to == f"c{ids.index(business)}@example.nl"

    # a nine-hour outage: 25 EUR, over the threshold; a declined credit tells no one
    long = runtime.start(
        "outage_compensation",
        {"customerId": someone, "situationKey": area, "situationHours": 9},
    )
    (approval,) = runtime.work_items(instance_id=long.id)
    assert runtime.instance(long.id).vars["credit"]["amount"] == 25
    runtime.complete_work_item(
        approval["id"], {"creditApproved": False, "declineReason": "credited-before"}
    )
    worker.round()
    assert runtime.instance(long.id).status == "completed"
    assert not [m for m in worker.email.sent if "25 EUR" in m.text]
