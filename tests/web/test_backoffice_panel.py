"""The back-office panel of the case page, against the demo back-office served by a real
uvicorn on a free port: products and invoices shown, a slow system degrades the panel within
the timeout and never delays the case page, a failing one opens its circuit breaker."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from flowdesk.api.app import create_app
from flowdesk.core.clock import SystemClock
from flowdesk.customers.service import create_customer
from flowdesk.demo.backoffice import (
    BackgroundServer,
    billing_record,
    create_backoffice_app,
    crm_record,
)
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.settings import Settings
from flowdesk.store import Store

Login = Callable[..., str]
_n = itertools.count(1)
HX = {"HX-Request": "true"}


@pytest.fixture(scope="module")
def backoffice_urls() -> Iterator[dict[str, str]]:
    """Three demo back-offices: healthy, slow (3 s per answer) and always failing."""
    servers = {
        "ok": BackgroundServer(create_backoffice_app()),
        "slow": BackgroundServer(create_backoffice_app(latency_s=3.0)),
        "down": BackgroundServer(create_backoffice_app(failure_rate=1.0)),
    }
    try:
        yield {name: server.start() for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()


def app_with(demo_store: tuple[str, Store], **backoffice: object) -> FastAPI:
    url, store = demo_store
    settings = Settings(database_url=url, backoffice_timeout_s=0.5, **backoffice)  # type: ignore[arg-type]
    return create_app(settings, store)


def case_for_customer(store: Store, account: str | None) -> tuple[str, str]:
    """A complaint for a new customer (with an account number when given); returns the first
    work item's id and the key the back-office knows the customer by."""
    n = next(_n)
    identities = [("email", f"bo{n}@example.com")] + ([("account", account)] if account else [])
    with store.unit_of_work() as uow:
        customer = create_customer(
            uow=uow,
            clock=SystemClock(),
            profile={"given_name": "Bo", "family_name": f"Office{n}"},
            identities=identities,
        )
    runtime = ProcessRuntime(store)
    state = runtime.start(
        "complaint",
        {"customerId": customer.id, "customerName": f"Bo Office{n}", "reason": "complaint"},
        business_key=f"FD-BO{n:03d}",
    )
    item = runtime.work_items(instance_id=state.id)[0]
    key = next((i.value for i in customer.identities if i.kind == "account"), customer.id)
    return str(item["id"]), key


def test_the_panel_shows_products_and_invoices_from_the_back_office(
    demo_store: tuple[str, Store], backoffice_urls: dict[str, str], login: Login
) -> None:
    item_id, key = case_for_customer(demo_store[1], "ACC-77001")
    assert key == "ACC-77001"
    with TestClient(app_with(demo_store, backoffice_url=backoffice_urls["ok"])) as client:
        login(client, "bokafor")
        page = client.get(f"/work/{item_id}")
        assert page.status_code == 200
        assert f'hx-get="/work/{item_id}/backoffice"' in page.text  # loaded after the page
        panel = client.get(f"/work/{item_id}/backoffice", headers=HX)
    assert panel.status_code == 200
    assert "<html" not in panel.text  # the fragment that htmx swaps in
    today = date.today()
    for product in crm_record(key, today)["products"]:
        assert product["plan"] in panel.text
        assert product["start_date"] in panel.text
    billing = billing_record(key, today)
    assert len(billing["invoices"]) == 6
    for invoice in billing["invoices"]:
        assert invoice["number"] in panel.text
    assert f"EUR {billing['balance']}" in panel.text
    assert 'data-status="ok"' in panel.text and "unavailable" not in panel.text


def test_without_htmx_the_panel_is_a_page_of_its_own(
    demo_store: tuple[str, Store], backoffice_urls: dict[str, str], login: Login
) -> None:
    item_id, key = case_for_customer(demo_store[1], None)
    with TestClient(app_with(demo_store, backoffice_url=backoffice_urls["ok"])) as client:
        login(client, "bokafor")
        page = client.get(f"/work/{item_id}/backoffice")
    assert page.status_code == 200
    assert "<html" in page.text and f'href="/work/{item_id}"' in page.text
    assert crm_record(key, date.today())["products"][0]["plan"] in page.text


def test_a_slow_back_office_degrades_the_panel_and_never_delays_the_page(
    demo_store: tuple[str, Store], backoffice_urls: dict[str, str], login: Login
) -> None:
    item_id, _ = case_for_customer(demo_store[1], "ACC-77002")
    with TestClient(app_with(demo_store, backoffice_url=backoffice_urls["slow"])) as client:
        login(client, "bokafor")
        started = time.perf_counter()
        page = client.get(f"/work/{item_id}")
        page_seconds = time.perf_counter() - started
        started = time.perf_counter()
        panel = client.get(f"/work/{item_id}/backoffice", headers=HX)
        panel_seconds = time.perf_counter() - started
    assert page.status_code == 200 and page_seconds < 2.5  # the back-office answers in 3 s
    assert panel.status_code == 200
    assert panel_seconds < 2.5  # three systems in parallel, each cut at 0.5 s
    for label in ("CRM", "Billing", "Orders"):
        assert f"{label} unavailable right now" in panel.text
    assert panel.text.count('data-status="unavailable"') == 3


def test_a_failing_back_office_opens_the_circuit_and_shows_the_last_known_data(
    demo_store: tuple[str, Store], backoffice_urls: dict[str, str], login: Login
) -> None:
    item_id, key = case_for_customer(demo_store[1], "ACC-77003")
    app = app_with(
        demo_store,
        backoffice_systems={
            "crm": backoffice_urls["ok"] + "/crm/customers/{key}",
            "billing": backoffice_urls["down"] + "/billing/customers/{key}",
        },
        backoffice_failures_to_open=2,
        backoffice_cooldown_s=600,
    )
    with TestClient(app) as client:
        login(client, "bokafor")
        for _ in range(3):
            panel = client.get(f"/work/{item_id}/backoffice", headers=HX)
            assert panel.status_code == 200
        connectors = app.state.backoffice
    assert connectors.breakers["billing"].state == "open"
    assert connectors.breakers["crm"].state == "closed"
    assert "Billing unavailable right now" in panel.text
    assert crm_record(key, date.today())["products"][0]["plan"] in panel.text


def test_a_misconfigured_back_office_is_said_on_the_panel(
    demo_store: tuple[str, Store], login: Login
) -> None:
    item_id, _ = case_for_customer(demo_store[1], None)
    app = app_with(demo_store, backoffice_systems={"crm": "ftp://crm.example/{key}"})
    with TestClient(app) as client:
        login(client, "bokafor")
        assert client.get(f"/work/{item_id}").status_code == 200
        panel = client.get(f"/work/{item_id}/backoffice", headers=HX)
    assert panel.status_code == 200
    assert "is not an http(s) URL" in panel.text


def test_the_panel_of_a_missing_item_is_a_404(
    demo_store: tuple[str, Store], backoffice_urls: dict[str, str], login: Login
) -> None:
    with TestClient(app_with(demo_store, backoffice_url=backoffice_urls["ok"])) as client:
        login(client, "bokafor")
        assert client.get("/work/no-such-item/backoffice").status_code == 404
