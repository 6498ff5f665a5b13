"""Issue 17 in a real browser against `flowdesk serve` with the demo company (no FLOWDESK_*
sender settings, as on a newcomer's machine): the demo outbox is started, an agent replies on
an email, an SMS and a chat contact from the case page, and each reply is delivered (the demo's
SMTP server and SMS/chat receivers record it in the event log) and listed on /outbox. The API
docs (/docs, /redoc) render in headless Chromium with every request answered by the server
itself: any request to another host fails the test. Screenshots go to var/test-artifacts/web/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from tests.web import test_browser
from tests.web.servers import demo_server
from tests.web.test_browser import CHROMIUM, _login, _shot

from flowdesk.api.docs import redoc_available, swagger_available
from flowdesk.contacts.intake import Intake
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"{CHROMIUM} is absent: install Debian's chromium package to run the browser tests",
)
browser = test_browser.browser
LOCAL = "127.0.0.1"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, database URL) of `flowdesk serve` with the demo and no sender settings."""
    with demo_server(tmp_path_factory.mktemp("demo-outbox")) as served_:
        yield served_


def _contacts(database_url: str) -> dict[str, dict[str, str]]:
    """A complaint by email, by SMS and by chat, through intake as the channels deliver them."""
    email = EmailMessage()
    email["From"] = "Olive Outbox <olive.outbox@example.com>"
    email["To"] = "service@northwind.example"
    email["Subject"] = "My bill again"
    email["Message-ID"] = "<olive-1@example.com>"
    email.set_content("I want to make a complaint about my bill, it is wrong again.")
    payloads = {
        "email": email.as_bytes(),
        "sms": json.dumps(
            {"from": "+447946022222", "text": "I want to make a complaint about my bill"}
        ).encode(),
        "chat": json.dumps(
            {
                "session_id": "chat-olive-3",
                "email": "chat.olive@example.com",
                "text": "I want to make a complaint about my bill",
            }
        ).encode(),
    }
    store = Store.open(database_url)
    try:
        made = {}
        for channel, raw in payloads.items():
            result = Intake(store, default_region="GB").submit(channel, raw)
            assert result.action == "started", result
            item = ProcessRuntime(store).work_items(instance_id=result.instance_id)[0]
            made[channel] = {
                "item": item["id"],
                "contact": result.contact_id,
                "reference": str(result.case_reference),
            }
        return made
    finally:
        store.close()


def _received(database_url: str) -> list[Any]:
    store = Store.open(database_url)
    try:
        return store.events.where(type="demo.outbox.received")
    finally:
        store.close()


def test_agent_replies_reach_the_demo_outbox(served: tuple[str, str], browser: Any) -> None:
    base, database_url = served
    cases = _contacts(database_url)
    texts = {
        "email": "Dear Olive, your bill is corrected (email).",
        "sms": "Your bill is corrected (SMS).",
        "chat": "Your bill is corrected (chat).",
    }
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    try:
        _login(page, base, "bokafor")
        page.wait_for_url(f"{base}/work*")
        for channel, case in cases.items():
            page.goto(f"{base}/work/{case['item']}")
            page.locator("#reply-contact").select_option(case["contact"])
            page.get_by_label("Your reply to the customer").fill(texts[channel])
            page.locator("#send-reply").click()
            page.wait_for_load_state()
            assert "no sender is configured" not in page.content(), channel
            assert "Reply sent" in page.content() or "reply sent" in page.content(), channel

        page.get_by_role("link", name="Outbox").click()
        page.wait_for_url(f"{base}/outbox")
        rows = page.locator("#outbox tbody tr")
        assert rows.count() >= 3
        newest = [rows.nth(i) for i in range(3)]
        assert [r.get_attribute("data-channel") for r in newest] == ["chat", "sms", "email"]
        for row, channel in zip(newest, ["chat", "sms", "email"], strict=True):
            assert texts[channel] in row.inner_text()
            assert cases[channel]["reference"] in row.inner_text()
        _shot(page, "demo-outbox")
    finally:
        page.close()

    received = {(e.channel, e.data["to"]): e.data for e in _received(database_url)}
    mail = received[("email", "olive.outbox@example.com")]  # what the SMTP server got
    assert mail["text"].strip() == texts["email"]
    assert mail["reference"] == cases["email"]["reference"]
    assert f"[{cases['email']['reference']}]" in mail["subject"]
    assert received[("sms", "+447946022222")]["text"] == texts["sms"]
    assert received[("chat", "chat.olive@example.com")]["text"] == texts["chat"]


def _local_only(page: Any) -> list[str]:
    """Let requests to this server through and abort (and list) every other one."""
    foreign: list[str] = []

    def check(route: Any) -> None:
        if urlsplit(route.request.url).hostname == LOCAL:
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    page.route("**/*", check)
    return foreign


@pytest.mark.skipif(not swagger_available(), reason="npm ci has not installed swagger-ui-dist")
def test_swagger_ui_renders_from_this_server_only(served: tuple[str, str], browser: Any) -> None:
    base, _ = served
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    try:
        foreign = _local_only(page)
        page.goto(f"{base}/docs")
        page.locator(".swagger-ui .info .title").wait_for(timeout=20_000)
        assert "Flowdesk" in page.locator(".swagger-ui .info .title").inner_text()
        # the operations are listed: Swagger UI draws only the part of a long page in view, so
        # the test scrolls through it and collects the paths it has seen
        seen: set[str] = set()
        for _ in range(60):
            seen.update(page.locator(".opblock-summary-path").all_inner_texts())
            page.mouse.wheel(0, 900)
            page.wait_for_timeout(50)
        assert len(seen) > 20 and "/api/v1/work-items" in seen
        _shot(page, "api-docs-swagger")
        assert foreign == []
    finally:
        page.close()


@pytest.mark.skipif(not redoc_available(), reason="npm ci has not installed redoc")
def test_redoc_renders_from_this_server_only(served: tuple[str, str], browser: Any) -> None:
    base, _ = served
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    try:
        foreign = _local_only(page)
        page.goto(f"{base}/redoc")
        page.locator(".api-info h1").wait_for(timeout=30_000)
        assert "Flowdesk" in page.locator(".api-info h1").inner_text()
        _shot(page, "api-docs-redoc")
        assert foreign == []
    finally:
        page.close()
