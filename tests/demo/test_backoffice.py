"""The demo back-office: deterministic, coherent CRM and billing data per key; latency and
failures on demand; `flowdesk demo backoffice` on its own and started next to `flowdesk serve`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from flowdesk.cli.demo import start_demo_backoffice
from flowdesk.demo.backoffice import (
    BackgroundServer,
    billing_record,
    create_backoffice_app,
    crm_record,
    orders_record,
)
from flowdesk.settings import Settings

TODAY = date(2026, 3, 17)


def test_the_same_key_gives_the_same_customer_and_keys_differ() -> None:
    assert crm_record("ACC-1", TODAY) == crm_record("ACC-1", TODAY)
    assert billing_record("ACC-1", TODAY) == billing_record("ACC-1", TODAY)
    assert orders_record("ACC-1", TODAY) == orders_record("ACC-1", TODAY)
    plans = {tuple(p["plan"] for p in crm_record(f"ACC-{n}", TODAY)["products"]) for n in range(40)}
    assert len(plans) > 5


@pytest.mark.parametrize("key", [f"cust-{n}" for n in range(25)])
def test_products_and_invoices_fit_together(key: str) -> None:
    crm = crm_record(key, TODAY)
    products = crm["products"]
    assert {p["product"] for p in products} <= {"broadband", "electricity"} and products
    for product in products:
        assert product["start_date"] < TODAY.isoformat() <= product["contract_end"]
        assert product["address"] == products[0]["address"]
    billing = billing_record(key, TODAY)
    invoices = billing["invoices"]
    assert len(invoices) == 6
    assert [i["date"] for i in invoices] == sorted((i["date"] for i in invoices), reverse=True)
    assert invoices[0]["date"] == "2026-03-01" and invoices[-1]["date"] == "2025-10-01"
    fees = sum(Decimal(p["monthly_fee"]) for p in products)
    if not any(p["product"] == "electricity" for p in products):
        assert all(Decimal(i["amount"]) == fees for i in invoices)  # no usage on broadband
    unpaid = sum((Decimal(i["amount"]) for i in invoices if i["status"] != "paid"), Decimal(0))
    assert Decimal(billing["balance"]) == unpaid
    statuses = {i["status"] for i in invoices}
    expected = "overdue" if "overdue" in statuses else "open" if "open" in statuses else "paid up"
    assert billing["payment_status"] == expected


@pytest.fixture(scope="module")
def flaky() -> Iterator[str]:
    server = BackgroundServer(create_backoffice_app(latency_s=0.4, failure_rate=1.0))
    try:
        yield server.start()
    finally:
        server.stop()


def test_latency_and_failures_on_demand(flaky: str) -> None:
    started = time.perf_counter()
    response = httpx.get(f"{flaky}/billing/customers/ACC-1", timeout=5)
    assert response.status_code == 503 and time.perf_counter() - started >= 0.4
    assert httpx.get(f"{flaky}/health", timeout=5).status_code == 200


def test_an_overlong_key_is_refused() -> None:
    with TestClient(create_backoffice_app()) as client:
        assert client.get(f"/crm/customers/{'k' * 201}").status_code == 422
        assert client.get(f"/crm/customers/{'k' * 200}").status_code == 200


def test_impossible_options_are_refused() -> None:
    with pytest.raises(ValueError, match="failure rate between 0 and 1"):
        create_backoffice_app(failure_rate=1.5)
    with pytest.raises(ValueError, match="latency must be >= 0"):
        create_backoffice_app(latency_s=-1)


def test_serve_starts_it_unless_a_back_office_is_configured() -> None:
    settings, server = start_demo_backoffice(Settings())
    assert server is not None
    try:
        assert settings.backoffice_url == server.url
        answer = httpx.get(f"{server.url}/crm/customers/ACC-9", timeout=5).json()
        assert answer == crm_record("ACC-9", date.today())
    finally:
        server.stop()
    configured = Settings(backoffice_url="http://crm.internal:8080")
    assert start_demo_backoffice(configured) == (configured, None)
    off = Settings(demo_backoffice=False)
    assert start_demo_backoffice(off) == (off, None)


def flowdesk(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "flowdesk.cli.main", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


def test_the_demo_backoffice_command_serves_on_its_own() -> None:
    process = flowdesk("demo", "backoffice", "--port", "0", "--seconds", "20")
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("demo back-office on http://127.0.0.1:"), line
        url = line.split()[3].rstrip(":")
        billing = httpx.get(f"{url}/billing/customers/ACC-5", timeout=5).json()
        assert billing == billing_record("ACC-5", date.today())
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_demo_backoffice_command_refuses_a_rate_above_one() -> None:
    process = flowdesk("demo", "backoffice", "--failure-rate", "1.5", "--seconds", "1")
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "--failure-rate" in err


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("FLOWDESK_BACKOFFICE_URL", "ftp://crm.internal", "is not an http(s) URL"),
        ("FLOWDESK_BACKOFFICE_SYSTEMS", "not json", 'error parsing value for field "backoffice_s'),
        ("FLOWDESK_BACKOFFICE_TIMEOUT_S", "-1", "FLOWDESK_BACKOFFICE_TIMEOUT_S: Input should be"),
    ],
)
def test_a_bad_back_office_setting_stops_serve_with_one_line(
    tmp_path: Path, variable: str, value: str, problem: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flowdesk.cli.main", "serve", "--port", "9"]
        + ["--database-url", f"sqlite:///{tmp_path / 'f.db'}"],
        capture_output=True,
        text=True,
        env=dict(os.environ, **{variable: value}),
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert problem in result.stderr and "Traceback" not in result.stderr
