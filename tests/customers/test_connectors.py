"""Back-office connectors against real HTTP servers (uvicorn on free ports): the TTL cache on an
injected clock, the circuit breaker, last known data when a system fails, and answers that are
refused (not JSON, too large, error status) without ever raising."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi import FastAPI, Request, Response

from flowdesk.core.clock import FixedClock
from flowdesk.customers.connectors import (
    MAX_RESPONSE_BYTES,
    Backoffice,
    BackofficeConfigError,
    CircuitBreaker,
    TtlCache,
    system,
    systems_from,
)
from flowdesk.demo.backoffice import BackgroundServer, create_backoffice_app, crm_record
from flowdesk.settings import Settings


class Scripted:
    """A back-office whose next answers the test decides; it counts the calls it gets."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.mode = "ok"
        self.app = FastAPI()

        @self.app.get("/x/{key}")
        async def answer(key: str, request: Request) -> Response:
            self.calls.append(key)
            if self.mode == "ok":
                return Response(f'{{"key": "{key}", "n": {len(self.calls)}}}', 200)
            if self.mode == "missing":
                return Response("{}", 404)
            if self.mode == "error":
                return Response("boom", 500)
            if self.mode == "html":
                return Response("<html>maintenance</html>", 200)
            if self.mode == "list":
                return Response("[1, 2]", 200)
            return Response(b'{"a": "' + b"x" * (MAX_RESPONSE_BYTES + 10) + b'"}', 200)


@pytest.fixture(scope="module")
def scripted() -> Iterator[tuple[Scripted, str]]:
    backend = Scripted()
    server = BackgroundServer(backend.app)
    try:
        yield backend, server.start()
    finally:
        server.stop()


@pytest.fixture
def backend(scripted: tuple[Scripted, str]) -> Scripted:
    scripted[0].calls.clear()
    scripted[0].mode = "ok"
    return scripted[0]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


def state(bo: Backoffice) -> str:
    return bo.breakers["crm"].state


def connectors(url: str, clock: FixedClock, **options: object) -> Backoffice:
    return Backoffice([system("crm", url + "/x/{key}")], clock=clock, **options)  # type: ignore[arg-type]


def test_answers_are_cached_for_the_ttl_then_fetched_again(
    backend: Scripted, scripted: tuple[Scripted, str], clock: FixedClock
) -> None:
    bo = connectors(scripted[1], clock, cache_ttl=timedelta(minutes=5))
    first = bo.fetch("crm", "A-1")
    assert first.status == "ok" and first.data == {"key": "A-1", "n": 1}
    clock.advance(minutes=4, seconds=59)
    assert bo.fetch("crm", "A-1").data == {"key": "A-1", "n": 1}
    assert backend.calls == ["A-1"]
    clock.advance(seconds=1)
    again = bo.fetch("crm", "A-1")
    assert again.data == {"key": "A-1", "n": 2} and again.fetched_at == clock.now()
    assert backend.calls == ["A-1", "A-1"]
    bo.close()


def test_a_failure_after_the_ttl_shows_the_last_known_data_with_its_time(
    backend: Scripted, scripted: tuple[Scripted, str], clock: FixedClock
) -> None:
    bo = connectors(scripted[1], clock, cache_ttl=timedelta(minutes=1))
    bo.fetch("crm", "A-2")
    clock.advance(minutes=10)
    backend.mode = "error"
    panel = bo.fetch("crm", "A-2")
    assert panel.status == "stale" and panel.data == {"key": "A-2", "n": 1}
    assert panel.message == "CRM unavailable right now - last known data from 09:00 UTC"
    assert panel.reason == "answered HTTP 500"
    bo.close()


def test_the_breaker_opens_after_n_failures_skips_calls_then_tries_once(
    backend: Scripted, scripted: tuple[Scripted, str], clock: FixedClock
) -> None:
    bo = connectors(scripted[1], clock, failures_to_open=3, cooldown=timedelta(seconds=30))
    backend.mode = "error"
    for _ in range(3):
        assert bo.fetch("crm", "B-1").status == "unavailable"
    assert len(backend.calls) == 3 and state(bo) == "open"
    skipped = bo.fetch("crm", "B-1")
    assert skipped.status == "unavailable" and "circuit open" in (skipped.reason or "")
    assert len(backend.calls) == 3  # no call while open
    clock.advance(seconds=30)
    assert state(bo) == "half-open"
    assert bo.fetch("crm", "B-1").status == "unavailable"  # the trial call fails
    assert len(backend.calls) == 4 and state(bo) == "open"
    clock.advance(seconds=30)
    backend.mode = "ok"
    assert bo.fetch("crm", "B-1").status == "ok"
    assert state(bo) == "closed" and bo.breakers["crm"].failures == 0
    bo.close()


def test_half_open_lets_one_trial_through_at_a_time(clock: FixedClock) -> None:
    breaker = CircuitBreaker(1, timedelta(seconds=10), clock)
    breaker.failed()
    assert not breaker.allow()
    clock.advance(seconds=10)
    assert breaker.allow() and not breaker.allow()
    breaker.succeeded()
    assert breaker.allow() and breaker.allow()


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("error", "answered HTTP 500"),
        ("html", "answered with something that is not JSON"),
        ("list", "answered JSON that is not an object"),
        ("huge", f"answer larger than {MAX_RESPONSE_BYTES} bytes"),
    ],
)
def test_bad_answers_are_refused_with_the_reason(
    backend: Scripted, scripted: tuple[Scripted, str], clock: FixedClock, mode: str, reason: str
) -> None:
    backend.mode = mode
    bo = connectors(scripted[1], clock)
    panel = bo.fetch("crm", "C-1")
    assert (panel.status, panel.reason, panel.data) == ("unavailable", reason, None)
    assert panel.message == "CRM unavailable right now"
    bo.close()


def test_an_unknown_customer_is_not_a_failure(
    backend: Scripted, scripted: tuple[Scripted, str], clock: FixedClock
) -> None:
    backend.mode = "missing"
    bo = connectors(scripted[1], clock, failures_to_open=1)
    panel = bo.fetch("crm", "D-1")
    assert panel.status == "not-found" and panel.message == "No CRM record for this customer"
    assert state(bo) == "closed"
    bo.fetch("crm", "D-1")
    assert backend.calls == ["D-1"]  # the answer "unknown" is cached too
    bo.close()


def test_the_key_cannot_reach_another_resource(
    backend: Scripted, scripted: tuple[Scripted, str], clock: FixedClock
) -> None:
    bo = connectors(scripted[1], clock)
    panel = bo.fetch("crm", "A 1?x=1#y")
    assert panel.status == "ok" and backend.calls == ["A 1?x=1#y"]  # all of it is the key
    assert bo.systems["crm"].url("../admin").endswith("/x/..%2Fadmin")
    assert bo.fetch("crm", "k" * 201).status == "not-found"
    bo.close()


def test_a_refused_connection_is_unavailable_quickly(clock: FixedClock) -> None:
    bo = Backoffice([system("billing", "http://127.0.0.1:9/b/{key}")], clock=clock, timeout_s=0.5)
    started = time.perf_counter()
    panel = bo.fetch("billing", "E-1")
    assert panel.status == "unavailable" and panel.reason is not None
    assert panel.reason.startswith(("unreachable", "no answer"))
    assert time.perf_counter() - started < 2
    bo.close()


def test_a_slow_system_is_cut_at_the_timeout(clock: FixedClock) -> None:
    server = BackgroundServer(create_backoffice_app(latency_s=2.0))
    url = server.start()
    try:
        bo = Backoffice.from_settings(
            Settings(backoffice_url=url, backoffice_timeout_s=0.3), clock=clock
        )
        started = time.perf_counter()
        panels = bo.panels("F-1")
        elapsed = time.perf_counter() - started
        assert [p.status for p in panels] == ["unavailable"] * 3
        assert all(p.reason == "no answer within 0.3 s" for p in panels)
        assert elapsed < 1.5  # in parallel, not 3 x 0.3 s plus waiting for the server
        bo.close()
    finally:
        server.stop()


def test_the_demo_back_office_through_the_connector(clock: FixedClock) -> None:
    server = BackgroundServer(create_backoffice_app())
    url = server.start()
    try:
        bo = Backoffice.from_settings(Settings(backoffice_url=url), clock=clock)
        crm, billing, orders = bo.panels("ACC-1")
        assert crm.data == crm_record("ACC-1", date.today())
        assert billing.data is not None and len(billing.data["invoices"]) == 6
        assert orders.status == "ok" and "orders" in (orders.data or {})
        bo.close()
    finally:
        server.stop()


def test_the_cache_is_bounded_least_recently_used_first(clock: FixedClock) -> None:
    cache = TtlCache(timedelta(minutes=1), 2, clock)
    cache.put(("crm", "a"), {"n": 1})
    cache.put(("crm", "b"), {"n": 2})
    assert cache.get(("crm", "a")) is not None  # a is now the most recent
    cache.put(("crm", "c"), {"n": 3})
    assert cache.get(("crm", "b")) is None and len(cache) == 2


def test_configuration_from_settings() -> None:
    settings = Settings(
        backoffice_url="http://bo.local:8100/",
        backoffice_systems={"orders": "https://shop.example/api/orders?customer={key}"},
    )
    found = {s.name: s for s in systems_from(settings)}
    assert list(found) == ["crm", "billing", "orders"]
    assert found["crm"].url("A 1/2") == "http://bo.local:8100/crm/customers/A%201%2F2"
    assert found["orders"].url("7") == "https://shop.example/api/orders?customer=7"
    assert systems_from(Settings()) == []


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("file:///etc/{key}", "is not an http(s) URL"),
        ("http:///{key}", "is not an http(s) URL"),
        ("http://crm.local/customers", "needs one {key} placeholder"),
        ("http://crm.local/{key}/{key}", "needs one {key} placeholder"),
    ],
)
def test_unusable_urls_are_refused(template: str, problem: str) -> None:
    with pytest.raises(BackofficeConfigError, match=re.escape(problem)):
        system("crm", template)
