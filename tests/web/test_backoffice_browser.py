"""What `make run` shows: `flowdesk serve` with the demo starts the demo back-office, and the
case page in a real browser (Debian's Chromium) fills its back-office panel through htmx with
the customer's products and invoices, fetched by the real connectors over HTTP."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from tests.web.servers import running
from tests.web.test_browser import CHROMIUM, _login, _shot, browser

from flowdesk.core.clock import SystemClock
from flowdesk.customers.service import create_customer
from flowdesk.demo.backoffice import billing_record, crm_record
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store
from flowdesk.testing.postgres import free_port

__all__ = ["browser"]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"{CHROMIUM} is absent: install Debian's chromium package to run the browser tests",
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """`flowdesk serve` on a free port with an empty SQLite store: (base URL, database URL)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('serve') / 'flowdesk.db'}"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_BACKOFFICE")}
    command = [sys.executable, "-m", "flowdesk.cli.main", "serve", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with running(
        [*command, "--database-url", url],
        base,
        env=dict(env, FLOWDESK_WEBHOOK_INTERVAL="0", FLOWDESK_LOG_LEVEL="warning"),
    ):
        yield base, url


def case_for(database_url: str, account: str) -> str:
    """A complaint of a new customer with this account number; returns its first work item."""
    store = Store.open(database_url)
    try:
        with store.unit_of_work() as uow:
            customer = create_customer(
                uow=uow,
                clock=SystemClock(),
                profile={"given_name": "Noor", "family_name": "Visser"},
                identities=[("account", account), ("email", "noor.visser@example.nl")],
            )
        runtime = ProcessRuntime(store)
        state = runtime.start(
            "complaint",
            {"customerId": customer.id, "customerName": "Noor Visser", "reason": "complaint"},
            business_key="FD-BOBRW1",
        )
        return str(runtime.work_items(instance_id=state.id)[0]["id"])
    finally:
        store.close()


def test_the_case_page_shows_products_and_invoices_from_the_demo_back_office(
    served: tuple[str, str], browser: Any
) -> None:
    base, database_url = served
    item_id = case_for(database_url, "ACC-55501")
    page = browser.new_page()
    _login(page, base, "bokafor")
    page.goto(f"{base}/work/{item_id}")
    crm = page.locator('#backoffice [data-system="crm"]')
    crm.wait_for(timeout=15_000)  # swapped in by htmx after the page
    today = date.today()
    for product in crm_record("ACC-55501", today)["products"]:
        assert product["plan"] in crm.inner_text()
    billing = page.locator('#backoffice [data-system="billing"]')
    assert billing.get_attribute("data-status") == "ok"
    latest = billing_record("ACC-55501", today)["invoices"][0]
    assert latest["number"] in billing.inner_text()
    assert page.locator("#backoffice .error").count() == 0
    _shot(page, "case-backoffice")
    page.close()
