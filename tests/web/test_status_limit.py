"""Failed status checks are limited per client address and per case reference (5 in 15 minutes
by default, from the settings): then 429 with Retry-After and a friendly page, and nothing is
checked, not even a right answer, until the oldest failure leaves the window. The app's clock
is a FixedClock the tests move."""

from __future__ import annotations

import itertools

from fastapi.testclient import TestClient
from tests.web.conftest import Starter, csrf_of

from flowdesk.api.app import create_app
from flowdesk.core.clock import FixedClock
from flowdesk.settings import Settings
from flowdesk.store import Store

_refs = itertools.count(1)


def _client(
    url: str, store: Store, clock: FixedClock, address: str, failures: int = 5, window: int = 900
) -> TestClient:
    settings = Settings(
        database_url=url, status_max_failures=failures, status_window_seconds=window
    )
    return TestClient(create_app(settings, store, clock), client=(address, 40000))


def _new_case(start_complaint: Starter, store: Store, prefix: str, name: str) -> str:
    """A fresh complaint under a reference no other test of the status limits uses."""
    reference = f"FD-{prefix}{next(_refs):04d}"
    start_complaint(store, reference, name=name)
    return reference


def _check(client: TestClient, reference: str, proof: str) -> tuple[int, str, str | None]:
    token = csrf_of(client.get("/status").text)
    response = client.post("/status", data={"csrf": token, "reference": reference, "proof": proof})
    return response.status_code, response.text, response.headers.get("retry-after")


def test_five_failures_on_a_reference_block_it_even_for_other_addresses(
    demo_store: tuple[str, Store], start_complaint: Starter
) -> None:
    url, store = demo_store
    clock = FixedClock()
    reference = _new_case(start_complaint, store, "L", "Lena Limit")
    app = create_app(Settings(database_url=url), store, clock)
    addresses = [f"203.0.113.{n}" for n in range(1, 8)]
    for n, address in enumerate(addresses[:5]):  # a botnet: one guess from each address
        with TestClient(app, client=(address, 40000)) as client:
            assert _check(client, reference, f"guess{n}")[0] == 404
            clock.advance(minutes=1)
    with TestClient(app, client=(addresses[5], 40000)) as client:
        status, page, retry = _check(client, reference, "guess5")  # one more guess: refused
        assert status == 429
        assert "Too many attempts" in page and "wait about 10 minutes" in page
        assert retry == str(10 * 60)  # the first failure leaves the window 15 min after it
        assert "We are working" not in page and "registered your complaint" not in page
    with TestClient(app, client=(addresses[6], 40000)) as client:
        # the customer with the right answer still gets in: the lock on a reference stops
        # guesses, not its owner (a stranger cannot lock a customer out of their case)
        status, page, _ = _check(client, reference, "Limit")
        assert status == 200 and f"We have registered your complaint {reference}." in page


def test_five_failures_from_an_address_block_it_for_every_reference(
    demo_store: tuple[str, Store], start_complaint: Starter
) -> None:
    url, store = demo_store
    clock = FixedClock()
    reference = _new_case(start_complaint, store, "L", "Otto Other")
    with _client(url, store, clock, "198.51.100.9", failures=3, window=600) as client:
        for n in range(3):  # walking through references
            assert _check(client, f"FD-WALK{n}", "smith")[0] == 404
        status, page, retry = _check(client, reference, "Other")
        assert status == 429 and retry == "600"
        message = client.post(
            "/status/message",
            data={
                "csrf": csrf_of(client.get("/status").text),
                "reference": reference,
                "proof": "Other",
                "message": "hello",
            },
        )
        assert message.status_code == 429
        photo = client.post(
            "/status/photo",
            data={
                "csrf": csrf_of(client.get("/status").text),
                "reference": reference,
                "proof": "Other",
            },
            files={"photo": ("a.jpg", b"\xff\xd8\xff", "image/jpeg")},
        )
        assert photo.status_code == 429
        clock.advance(seconds=599)
        assert _check(client, reference, "Other")[0] == 429
        clock.advance(seconds=1)
        assert _check(client, reference, "Other")[0] == 200
    with _client(url, store, clock, "198.51.100.10") as other:  # another address is not blocked
        assert _check(other, reference, "Other")[0] == 200


def test_successes_do_not_count_and_failures_slide_out_of_the_window(
    demo_store: tuple[str, Store], start_complaint: Starter
) -> None:
    url, store = demo_store
    clock = FixedClock()
    reference = _new_case(start_complaint, store, "L", "Sam Slide")
    with _client(url, store, clock, "192.0.2.33") as client:
        for _ in range(10):
            assert _check(client, reference, "Slide")[0] == 200
        for _ in range(4):
            assert _check(client, reference, "wrong")[0] == 404
            clock.advance(minutes=5)
        # 20 minutes on: the failures at 0 and 5 minutes have left the window, two remain
        for _ in range(3):
            assert _check(client, reference, "wrong")[0] == 404
        assert _check(client, reference, "Slide")[0] == 429
