"""The status page's limits hold across server processes and proxies: failures are counted in
the database (two apps on one database share them), X-Forwarded-For is believed only from the
configured proxies, and the status API (/api/v1/cases/status) is limited the same way."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.web.conftest import Starter
from tests.web.test_status_limit import _check, _new_case

from flowdesk.api.app import create_app
from flowdesk.auth import service
from flowdesk.core.clock import FixedClock
from flowdesk.settings import Settings
from flowdesk.store import Store


def test_two_processes_share_the_count(
    demo_store: tuple[str, Store], start_complaint: Starter
) -> None:
    url, store = demo_store
    clock = FixedClock()
    reference = _new_case(start_complaint, store, "S", "Sara Shared")
    apps = [create_app(Settings(database_url=url), store, clock) for _ in range(2)]
    for n in range(5):  # alternate between the two processes, from one address
        with TestClient(apps[n % 2], client=("198.51.100.7", 40000)) as client:
            assert _check(client, f"FD-NONE{n}", "guess")[0] == 404
    with TestClient(apps[1], client=("198.51.100.7", 40000)) as client:
        assert _check(client, reference, "Shared")[0] == 429  # the address is blocked


def test_forwarded_for_is_believed_only_from_trusted_proxies(
    demo_store: tuple[str, Store], start_complaint: Starter
) -> None:
    url, store = demo_store
    clock = FixedClock()
    untrusted = create_app(Settings(database_url=url), store, clock)
    with TestClient(untrusted, client=("127.0.0.1", 40000)) as client:
        for n in range(5):  # a new made-up address on every try: still one client
            client.headers["X-Forwarded-For"] = f"192.0.2.{n}"
            assert _check(client, f"FD-XF{n}", "guess")[0] == 404
        client.headers["X-Forwarded-For"] = "192.0.2.99"
        assert _check(client, "FD-XF9", "guess")[0] == 429
    behind = create_app(Settings(database_url=url, trusted_proxies="10.0.0.0/8"), store, clock)
    with TestClient(behind, client=("10.1.2.3", 40000)) as client:
        for n in range(6):  # the proxy says who each client is: six clients, none blocked
            client.headers["X-Forwarded-For"] = f"203.0.113.{n}"
            assert _check(client, f"FD-PX{n}", "guess")[0] == 404


def test_the_status_api_is_limited_like_the_page(
    demo_store: tuple[str, Store], start_complaint: Starter
) -> None:
    url, store = demo_store
    clock = FixedClock()
    reference = _new_case(start_complaint, store, "A", "Alma Api")
    service.create_user(store, clock, username="ivr", roles=["integration"])
    _, key = service.create_api_key(store, clock, username="ivr", name="ivr")
    app = create_app(Settings(database_url=url), store, clock)
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as client:

        def ask(ref: str, email: str) -> tuple[int, dict[str, object]]:
            answer = client.post("/api/v1/cases/status", json={"reference": ref, "email": email})
            return answer.status_code, answer.json()

        for n in range(5):
            status, body = ask(f"FD-Q{n}", "guess@example.com")
            assert status == 200 and body["verified"] is False
        status, body = ask(reference, "alma@example.com")
        assert status == 429 and body["type"] == "urn:flowdesk:problem:rate-limited"
