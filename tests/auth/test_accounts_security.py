"""Accounts under attack, through the API and the login page: failed logins counted per
account and per address in the database (two app processes share them), the lock-out notice,
password hashes upgraded on login, Secure cookies and HSTS when served over HTTPS, a CSRF token
on cookie-authenticated API changes, and the security headers (no inline script anywhere)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from flowdesk.api.app import create_app
from flowdesk.auth import hashing, service
from flowdesk.auth.models import users
from flowdesk.core.clock import FixedClock
from flowdesk.settings import Settings
from flowdesk.store import Store

PASSWORD = "correct horse battery"


@pytest.fixture
def apps(
    store: Store, clock: FixedClock, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FastAPI, FastAPI]]:
    """Two apps on one database, as two `flowdesk serve` processes behind a load balancer."""
    monkeypatch.setenv("FLOWDESK_WEBHOOK_INTERVAL", "0")
    service.create_user(store, clock, username="ann", roles=["agent"], password=PASSWORD)
    service.create_user(store, clock, username="bob", roles=["agent"], password=PASSWORD)
    settings = Settings(database_url=database_url)
    yield create_app(settings, store, clock), create_app(settings, store, clock)


def _login(client: TestClient, username: str, password: str) -> object:
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_failed_logins_lock_the_account_everywhere_then_expire(
    apps: tuple[FastAPI, FastAPI], store: Store, clock: FixedClock
) -> None:
    first, second = (TestClient(app) for app in apps)
    for attempt in range(service.LOGIN_FAILURES_PER_USER):
        client = first if attempt % 2 else second  # spread over both processes
        assert _login(client, "ann", "wrong password").status_code == 401  # type: ignore[attr-defined]
    locked = _login(second, "ann", PASSWORD)  # the right password does not pass a lock
    assert locked.status_code == 429  # type: ignore[attr-defined]
    assert "locked for about 15 minutes" in locked.json()["detail"]  # type: ignore[attr-defined]
    assert int(locked.headers["Retry-After"]) > 800  # type: ignore[attr-defined]
    # the lock-out notice is in the log, once
    notices = [e for e in store.events.iterate() if e.type == "user.locked_out"]
    assert [(e.actor, e.data["failures"]) for e in notices] == [("ann", 5)]
    # the login page says it in words
    page = first.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    form = first.post(
        "/login",
        data={"csrf": token.group(1), "username": "ann", "password": PASSWORD, "next": "/work"},
        follow_redirects=False,
    )
    assert form.status_code == 429 and "Too many failed logins" in form.text
    assert _login(first, "bob", PASSWORD).status_code == 200  # type: ignore[attr-defined]
    clock.advance(service.LOGIN_WINDOW + timedelta(seconds=1))
    assert _login(first, "ann", PASSWORD).status_code == 200  # type: ignore[attr-defined]


def test_one_address_guessing_many_accounts_is_locked(
    apps: tuple[FastAPI, FastAPI], store: Store, clock: FixedClock
) -> None:
    client = TestClient(apps[0])
    for i in range(service.LOGIN_FAILURES_PER_ADDRESS):
        assert _login(client, f"user{i}", "guess-guess").status_code == 401  # type: ignore[attr-defined]
    assert _login(client, "bob", PASSWORD).status_code == 429  # type: ignore[attr-defined]


def test_a_weak_hash_is_upgraded_at_login(
    apps: tuple[FastAPI, FastAPI], store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(hashing.COST_ENV)
    assert hashing._n() == hashing.SCRYPT_N == 2**17  # OWASP's scrypt strength by default
    monkeypatch.setenv(hashing.COST_ENV, str(2**15))  # stronger than the tests' 2^14
    assert _login(TestClient(apps[0]), "ann", PASSWORD).status_code == 200  # type: ignore[attr-defined]
    with store.reading() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.username == "ann"))
        assert stored.scalar_one().startswith(f"scrypt${2**15}$8$1$")
    assert _login(TestClient(apps[0]), "ann", PASSWORD).status_code == 200  # type: ignore[attr-defined]


def test_https_cookies_hsts_and_csrf_on_cookie_calls(
    store: Store, clock: FixedClock, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWDESK_WEBHOOK_INTERVAL", "0")
    service.create_user(store, clock, username="ann", roles=["admin"], password=PASSWORD)
    app = create_app(Settings(database_url=database_url, cookie_secure=True), store, clock)
    client = TestClient(app, base_url="https://testserver")
    answer = _login(client, "ann", PASSWORD)
    assert "secure" in answer.headers["set-cookie"].lower()  # type: ignore[attr-defined]
    assert answer.headers["strict-transport-security"].startswith("max-age=")  # type: ignore[attr-defined]
    # a cross-site form can make the browser send the session cookie, not the token
    evil = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
    forged = client.post("/api/v1/signals", json={"name": "outage-over"}, headers=evil)
    assert forged.status_code == 403 and "form token" in forged.json()["detail"]
    only_fetch = client.post(
        "/api/v1/signals", json={"name": "outage-over"}, headers={"Sec-Fetch-Site": "same-site"}
    )
    assert only_fetch.status_code == 403  # a sibling subdomain is not the same origin
    only_origin = client.post(
        "/api/v1/signals", json={"name": "outage-over"}, headers={"Origin": "https://evil.example"}
    )
    assert only_origin.status_code == 403
    page = client.get("/work")
    token = client.cookies.get("flowdesk_csrf")
    assert token and page.status_code == 200
    sent = client.post(
        "/api/v1/signals", json={"name": "outage-over"}, headers={"X-CSRF-Token": token, **evil}
    )
    assert sent.status_code != 403, sent.text  # the token is proof enough
    same = {"Origin": "https://testserver", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/api/v1/signals", json={"name": "x"}, headers=same).status_code != 403
    assert client.get("/api/v1/work-items").status_code == 200  # reads need no token


def test_security_headers_and_no_inline_script(apps: tuple[FastAPI, FastAPI]) -> None:
    client = TestClient(apps[0])
    page = client.get("/login")
    csp = page.headers["content-security-policy"]
    script = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "unsafe-inline" not in script and "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in page.headers  # plain HTTP: no HSTS
    templates = Path(__file__).parents[2] / "src" / "flowdesk" / "web" / "templates"
    for template in templates.glob("*.html"):
        text = template.read_text()
        inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", text)
        handlers = re.findall(r"\son[a-z]+\s*=", text)
        assert not inline and not handlers, template.name
