"""The demo company's back-office: a small HTTP service with CRM, billing and orders data, so
the customer 360 of the demo goes through the real connector path (customers/connectors.py).

Every answer is derived from the key (customer id or account number) and today's date, so the
same customer always has the same products, plan and invoices, and nothing is stored.
`latency_s` and `failure_rate` make it slow or flaky on purpose, to show how the panel degrades.

    flowdesk demo backoffice --port 8100 --latency 0.3 --failure-rate 0.1

`BackgroundServer` runs any ASGI app with uvicorn in a thread on a local port (0: a free one);
`flowdesk serve` starts this service that way next to the demo.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Path

#: Plans per product with their monthly fee (EUR).
PLANS: dict[str, list[tuple[str, Decimal]]] = {
    "broadband": [
        ("Fibre 100", Decimal("39.50")),
        ("Fibre 500", Decimal("49.50")),
        ("Fibre 1000", Decimal("64.00")),
        ("DSL 50", Decimal("32.00")),
    ],
    "electricity": [
        ("Green Fixed 1y", Decimal("84.00")),
        ("Green Variable", Decimal("71.50")),
        ("Standard Fixed 3y", Decimal("92.25")),
    ],
}
STREETS = ["Kerkstraat", "Dorpsstraat", "Stationsweg", "Molenweg", "Schoolstraat", "Beukenlaan"]
CITIES = ["Utrecht", "Amersfoort", "Zwolle", "Haarlem", "Delft", "Leiden", "Breda", "Arnhem"]
ORDER_KINDS = ["router replacement", "smart meter installation", "plan upgrade", "move service"]
Key = Path(min_length=1, max_length=200)


def _rng(key: str, topic: str) -> random.Random:
    digest = hashlib.sha256(f"{topic}:{key}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def crm_record(key: str, today: date) -> dict[str, Any]:
    """Products (broadband, electricity or both) with plan, start date and address."""
    rng = _rng(key, "crm")
    address = (
        f"{rng.choice(STREETS)} {rng.randint(1, 180)}, "
        f"{rng.randint(1000, 9999)} {rng.choice('ABCDEFGHJKLMNPRSTVWXZ')}"
        f"{rng.choice('ABCDEFGHJKLMNPRSTVWXZ')} {rng.choice(CITIES)}"
    )
    kinds = rng.choice([["broadband"], ["electricity"], ["broadband", "electricity"]])
    products = []
    for kind in kinds:
        plan, fee = rng.choice(PLANS[kind])
        start = today - timedelta(days=rng.randint(200, 2500))
        term = timedelta(days=365 * rng.choice([1, 2, 3]))
        end = start + term
        while end < today:  # contracts renew for another term
            end += term
        products.append(
            {
                "id": f"P-{_rng(key, kind).randrange(10**8):08d}",
                "product": kind,
                "plan": plan,
                "monthly_fee": _money(fee),
                "start_date": start.isoformat(),
                "contract_end": end.isoformat(),
                "address": address,
                "status": "active",
            }
        )
    return {
        "key": key,
        "customer_since": min(p["start_date"] for p in products),
        "products": products,
    }


def billing_record(key: str, today: date) -> dict[str, Any]:
    """The last six monthly invoices (fees of the CRM products, usage on electricity), the
    balance of what is unpaid and the payment status."""
    rng = _rng(key, "billing")
    products = crm_record(key, today)["products"]
    base = sum(Decimal(p["monthly_fee"]) for p in products)
    has_power = any(p["product"] == "electricity" for p in products)
    late_payer = rng.random() < 0.15
    invoices = []
    month = today.replace(day=1)
    for age in range(6):
        usage = Decimal(rng.randint(-1500, 2500)) / 100 if has_power else Decimal(0)
        issued = month
        due = issued + timedelta(days=14)
        if due >= today:
            status = "open"
        elif late_payer and age <= 1:
            status = "overdue"
        else:
            status = "paid"
        invoices.append(
            {
                "number": f"INV-{issued:%Y%m}-{rng.randrange(10**5):05d}",
                "date": issued.isoformat(),
                "due_date": due.isoformat(),
                "amount": _money(base + usage),
                "status": status,
            }
        )
        month = (month - timedelta(days=1)).replace(day=1)
    unpaid = [i for i in invoices if i["status"] != "paid"]
    balance = sum((Decimal(i["amount"]) for i in unpaid), Decimal(0))
    payment_status = (
        "overdue"
        if any(i["status"] == "overdue" for i in unpaid)
        else "open"
        if unpaid
        else "paid up"
    )
    return {
        "key": key,
        "currency": "EUR",
        "balance": _money(balance),
        "payment_status": payment_status,
        "payment_method": rng.choice(["direct debit", "direct debit", "bank transfer"]),
        "invoices": invoices,
    }


def orders_record(key: str, today: date) -> dict[str, Any]:
    rng = _rng(key, "orders")
    orders = []
    for _ in range(rng.randint(0, 3)):
        placed = today - timedelta(days=rng.randint(1, 400))
        orders.append(
            {
                "number": f"ORD-{rng.randrange(10**6):06d}",
                "kind": rng.choice(ORDER_KINDS),
                "placed": placed.isoformat(),
                "status": "delivered" if (today - placed).days > 14 else "in progress",
            }
        )
    orders.sort(key=lambda o: o["placed"], reverse=True)
    return {"key": key, "orders": orders}


def create_backoffice_app(
    *,
    latency_s: float = 0.0,
    failure_rate: float = 0.0,
    today: Callable[[], date] = date.today,
    seed: int | None = None,
) -> FastAPI:
    """The fake back-office. Each answer waits `latency_s` and fails with 503 at
    `failure_rate` (0..1), like a struggling real system."""
    if latency_s < 0 or not 0.0 <= failure_rate <= 1.0:
        raise ValueError("latency must be >= 0 and the failure rate between 0 and 1")
    app = FastAPI(title="Flowdesk demo back-office", docs_url=None, redoc_url=None)
    chance = random.Random(seed)

    async def weather() -> None:
        if latency_s:
            await asyncio.sleep(latency_s)
        if failure_rate and chance.random() < failure_rate:
            raise HTTPException(503, "the back-office is having a bad moment")

    slow = [Depends(weather)]

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/crm/customers/{key}", dependencies=slow)
    async def crm(key: str = Key) -> dict[str, Any]:
        return crm_record(key, today())

    @app.get("/billing/customers/{key}", dependencies=slow)
    async def billing(key: str = Key) -> dict[str, Any]:
        return billing_record(key, today())

    @app.get("/orders/customers/{key}", dependencies=slow)
    async def orders(key: str = Key) -> dict[str, Any]:
        return orders_record(key, today())

    return app


class BackgroundServer:
    """uvicorn serving an ASGI app in a daemon thread on 127.0.0.1 (port 0: a free one)."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.host = host
        self._thread = threading.Thread(target=self.server.run, name="backoffice", daemon=True)

    def start(self, timeout_s: float = 10.0) -> str:
        """Start and wait until it listens; returns its base URL."""
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the back-office server did not start")
            time.sleep(0.02)
        return self.url

    @property
    def url(self) -> str:
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://{self.host}:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=5)
