"""Webhook delivery to a real local HTTP server: signature, retries with backoff after a 500,
redelivery after a crash, fan-out that survives a crash before the cursor is acknowledged."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from flowdesk.core.clock import FixedClock
from flowdesk.core.events import NewEvent
from flowdesk.store import Store
from flowdesk.webhooks import subscriptions
from flowdesk.webhooks.delivery import SIGNATURE_HEADER, Deliverer, sign, verify

#: Made-up event types and partial payloads: this exercises the log, not the registry.
pytestmark = pytest.mark.usefixtures("loose_events")

SECRET = "a-secret-of-24-characters"


class Receiver:
    """A local HTTP endpoint that records requests and answers with scripted statuses."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers.items()), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _append(store: Store, clock: FixedClock, *types: str) -> None:
    with store.unit_of_work() as uow:
        uow.append(*(NewEvent(t, clock.now(), {"n": i}) for i, t in enumerate(types)))


def test_signed_cloudevents_reach_the_subscriber(
    store: Store, clock: FixedClock, receiver: Receiver
) -> None:
    sub = subscriptions.create(
        store, clock, url=receiver.url, event_types=["process.*"], secret=SECRET
    )
    _append(store, clock, "process.started", "user.created", "process.completed")
    deliverer = Deliverer(store, clock=clock)
    report = deliverer.deliver_once()
    assert (report.enqueued, report.delivered) == (2, 2)
    assert [e["type"] for e in receiver.events()] == [
        "io.flowdesk.process.started",
        "io.flowdesk.process.completed",
    ]
    for headers, body in receiver.requests:
        assert headers[SIGNATURE_HEADER] == sign(SECRET, body)
        assert verify(SECRET, body, headers[SIGNATURE_HEADER])
        assert not verify("another-secret-value", body, headers[SIGNATURE_HEADER])
        assert headers["Content-Type"] == "application/cloudevents+json"
    assert deliverer.deliver_once().delivered == 0  # nothing twice
    log = subscriptions.deliveries(store, sub.id)
    assert {d.status for d in log} == {"delivered"} and all(d.attempts == 1 for d in log)
    assert all(d.last_status_code == 200 for d in log)


def test_failed_delivery_is_retried_with_backoff_then_marked_failed(
    store: Store, clock: FixedClock, receiver: Receiver
) -> None:
    sub = subscriptions.create(
        store, clock, url=receiver.url, event_types=["case.*"], secret=SECRET
    )
    _append(store, clock, "case.opened")
    deliverer = Deliverer(store, clock=clock, backoff=timedelta(seconds=10), max_attempts=3)
    receiver.statuses = [500, 503, 500]
    assert deliverer.deliver_once().retried == 1
    (entry,) = subscriptions.deliveries(store, sub.id)
    assert entry.status == "pending" and entry.last_status_code == 500
    assert entry.next_attempt_at == clock.now() + timedelta(seconds=10)
    assert deliverer.deliver_once().retried == 0  # not due yet
    clock.advance(timedelta(seconds=10))
    assert deliverer.deliver_once().retried == 1
    (entry,) = subscriptions.deliveries(store, sub.id)
    assert entry.next_attempt_at == clock.now() + timedelta(seconds=20)  # doubled
    clock.advance(timedelta(seconds=20))
    assert deliverer.deliver_once().failed == 1
    (entry,) = subscriptions.deliveries(store, sub.id)
    assert (entry.status, entry.attempts) == ("failed", 3)
    assert "HTTP 500" in (entry.last_error or "")
    assert len(receiver.requests) == 3
    ids = {json.loads(body)["id"] for _, body in receiver.requests}
    assert len(ids) == 1  # the same event each time: receivers can deduplicate


def test_a_500_then_success_delivers(store: Store, clock: FixedClock, receiver: Receiver) -> None:
    sub = subscriptions.create(
        store, clock, url=receiver.url, event_types=["case.*"], secret=SECRET
    )
    _append(store, clock, "case.opened")
    deliverer = Deliverer(store, clock=clock, backoff=timedelta(seconds=1))
    receiver.statuses = [500]
    deliverer.deliver_once()
    clock.advance(timedelta(seconds=1))
    assert deliverer.deliver_once().delivered == 1
    (entry,) = subscriptions.deliveries(store, sub.id)
    assert (entry.status, entry.attempts) == ("delivered", 2)


def test_crash_after_sending_redelivers(
    store: Store, clock: FixedClock, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscriptions.create(store, clock, url=receiver.url, event_types=["case.*"], secret=SECRET)
    _append(store, clock, "case.opened")
    crashing = Deliverer(store, clock=clock)

    def crash(*args: Any, **kwargs: Any) -> str:
        raise SystemExit("killed after the POST, before recording it")

    monkeypatch.setattr(crashing, "_record", crash)
    with pytest.raises(SystemExit):
        crashing.deliver_once()
    assert len(receiver.requests) == 1
    # A new process: the lease of the crashed one must run out first.
    restarted = Deliverer(store, clock=clock)
    assert restarted.deliver_once().delivered == 0
    clock.advance(restarted.lease)
    assert restarted.deliver_once().delivered == 1
    first, second = receiver.events()
    assert first["id"] == second["id"]  # at least once: the same event again


def test_crash_before_ack_neither_loses_nor_duplicates(
    store: Store, clock: FixedClock, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = subscriptions.create(store, clock, url=receiver.url, event_types=["a.*"], secret=SECRET)
    _append(store, clock, "a.one", "a.two")
    crashing = Deliverer(store, clock=clock)
    real_ack = store.events.ack

    def crash(consumer: str, seq: int) -> None:
        raise SystemExit("killed before the cursor moved")

    monkeypatch.setattr(store.events, "ack", crash)
    with pytest.raises(SystemExit):
        crashing.enqueue()
    monkeypatch.setattr(store.events, "ack", real_ack)
    assert store.events.position("webhooks") == 0  # the cursor did not move
    report = Deliverer(store, clock=clock).deliver_once()
    assert report.delivered == 2
    assert sorted(e["type"] for e in receiver.events()) == [
        "io.flowdesk.a.one",
        "io.flowdesk.a.two",
    ]
    assert len(subscriptions.deliveries(store, sub.id)) == 2
    assert store.events.position("webhooks") == store.events.head()


def test_deleted_subscription_stops_and_unreachable_url_retries(
    store: Store, clock: FixedClock
) -> None:
    sub = subscriptions.create(
        store, clock, url="http://127.0.0.1:9/closed", event_types=["x.*"], secret=SECRET
    )
    _append(store, clock, "x.y")
    deliverer = Deliverer(store, clock=clock, timeout_s=2)
    assert deliverer.deliver_once().retried == 1
    (entry,) = subscriptions.deliveries(store, sub.id)
    assert entry.status == "pending" and "ConnectError" in (entry.last_error or "")
    subscriptions.delete(store, clock, sub.id)
    clock.advance(timedelta(hours=1))
    assert deliverer.deliver_once().retried == 0
    assert subscriptions.deliveries(store, sub.id)[0].status == "cancelled"


def test_pattern_matching() -> None:
    assert subscriptions.matches("*", "anything.at.all")
    assert subscriptions.matches("process.*", "process.started")
    assert not subscriptions.matches("process.*", "processes.started")
    assert subscriptions.matches("work_item.claimed", "work_item.claimed")
    assert not subscriptions.matches("work_item.claimed", "work_item.claimed2")
