"""The chat widget and the screen-pop in a real browser (Debian's Chromium, Playwright) against a
server on 127.0.0.1: the customer starts a chat on the demo page and writes; the contact arrives
and opens a case (its acknowledgement with the reference shows in the widget); an agent answers
through the REST API and the answer reaches the widget by the long poll. Then the agent, logged
in on the desktop, answers a call: the desktop opens that case's page, whose timeline shows it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from tests.web.test_browser import ARGS, CHROMIUM

from flowdesk.api.app import create_app
from flowdesk.auth import service as auth
from flowdesk.demo import COMPANY_DIR
from flowdesk.experience.service import deploy_bundle
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.settings import Settings
from flowdesk.store import Store
from flowdesk.testing.postgres import free_port

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"{CHROMIUM} is absent: install Debian's chromium package to run the browser tests",
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Flowdesk with the outage flow deployed, on a free port; (base URL, an admin API key)."""
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    store = Store.open(url)
    store.upgrade()
    deploy_bundle(ProcessRuntime(store), store, COMPANY_DIR / "outage-restoration")
    auth.create_user(store, _clock(), username="root", roles=["admin"], password="pw-for-root")
    _, key = auth.create_api_key(store, _clock(), username="root", name="test")
    settings = Settings(database_url=url, chat_widget_secret="s3cret", load_demo=False)  # type: ignore[arg-type]
    app = create_app(settings, store)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    try:
        yield base, key
    finally:
        uv.should_exit = True
        thread.join(timeout=2)  # a long poll still waiting ends by itself
        store.close()


def _clock() -> Any:
    from flowdesk.core.clock import SystemClock

    return SystemClock()


def test_customer_chats_in_the_widget_and_the_agents_answer_arrives(
    server: tuple[str, str],
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, key = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/chat/demo")
            page.get_by_role("button", name="Chat with Northwind").click()
            page.get_by_label("Name").fill("Ada Lovelace")
            page.get_by_label("Email").fill("ada@example.org")
            page.get_by_role("button", name="Start chat").click()
            page.get_by_label("Message").fill("My internet is down since this morning")
            page.get_by_role("button", name="Send").click()
            log = page.get_by_role("log", name="Conversation")
            expect(log.locator("li.customer")).to_have_text(
                ["My internet is down since this morning"]
            )
            ack = log.locator("li.agent").first
            expect(ack).to_contain_text("case reference is FD-", timeout=15_000)
            reference = "FD-" + (ack.text_content() or "").split("FD-")[1][:5]

            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as api:
                case = api.get(f"/api/v1/cases/{reference}")
                assert case.status_code == 200, case.text
                instance = case.json()["instance_id"]
                items = [
                    i for i in api.get("/api/v1/work-items").json() if i["instance_id"] == instance
                ]
                assert items, "the chat opened no work"
                answer = "A technician is on the way, Ada."
                sent = api.post(f"/api/v1/work-items/{items[0]['id']}/reply", json={"text": answer})
                assert sent.status_code == 200, sent.text
                assert sent.json()["channel"] == "chat"
            expect(log.locator("li.agent").last).to_have_text(answer, timeout=30_000)
            page.reload()  # the session survives a reload of the page
            expect(page.get_by_role("log", name="Conversation").locator("li")).to_have_count(3)

            # the same agent on the desktop answers a call: the case page pops up
            desk = browser.new_page()
            desk.goto(f"{base}/login")
            desk.get_by_label("Username").fill("root")
            desk.get_by_label("Password").fill("pw-for-root")
            desk.get_by_role("button", name="Log in").click()
            desk.wait_for_url(f"{base}/work*")
            desk.wait_for_function("sessionStorage.getItem('flowdesk-screen-pop') !== null")
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as api:
                offered = api.post(
                    "/api/v1/calls/events",
                    json={
                        "event": "call.offered",
                        "call_id": "c-9",
                        "caller": "+447911123456",
                        "ivr_choice": "1",
                    },
                )
                assert offered.status_code == 200, offered.text
                called = offered.json()["case_reference"]
                case = api.get(f"/api/v1/cases/{called}").json()
                items = api.get("/api/v1/work-items").json()
                step = next(i for i in items if i["instance_id"] == case["instance_id"])
                answered = api.post(
                    "/api/v1/calls/events",
                    json={"event": "call.answered", "call_id": "c-9", "agent": "root"},
                )
                assert answered.status_code == 200, answered.text
            desk.wait_for_url(f"{base}/work/{step['id']}", timeout=15_000)
            expect(desk.get_by_text("Call answered by", exact=False).first).to_be_visible()
        finally:
            browser.close()
