"""The administrator in a real browser (Debian's Chromium, Playwright) against a real server with
the demo company file: they create a login and add an agent with a skill through the admin
pages; that agent logs in and gets the billing dispute step that needs the skill with "Next best
work item". The admin agents page is saved to docs/screenshots/admin-agents.png."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.web import screenshots
from tests.web.servers import running
from tests.web.test_browser import ARGS, CHROMIUM, PASSWORD

from flowdesk.cli.demo import default_demo_dir
from flowdesk.testing.postgres import free_port

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"{CHROMIUM} is absent: install Debian's chromium package to run the browser tests",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running server with the demo loaded and the demo's company file (departments)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('admin-browser') / 'flowdesk.db'}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    launcher = Path(__file__).with_name("serve_web.py")
    command = [sys.executable, str(launcher), "--port", str(port), "--database-url", url]
    env = dict(
        os.environ,
        FLOWDESK_WEBHOOK_INTERVAL="0",
        FLOWDESK_COMPANY_FILE=str(default_demo_dir() / "company.yaml"),
    )
    with running(command, base, env=env, budget_s=60):
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _login(page: Any, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/work*")


def _dispute_at_investigation(base: str, reference: str) -> str:
    """Through the REST API, as the administrator: start a billing dispute and complete its
    first step (explain the bill; still disputed), so that it waits at `investigate_charges`,
    which needs the billing-disputes skill. Returns that work item's id."""
    with httpx.Client(base_url=base, timeout=30) as api:
        assert api.post(
            "/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}
        ).is_success
        started = api.post(
            "/api/v1/process-instances",
            json={
                "processKey": "billing_dispute",
                "businessKey": reference,
                "variables": {"customerName": "Ivy Bill"},
            },
        )
        assert started.status_code == 201, started.text
        instance = started.json()["id"]
        items = api.get("/api/v1/work-items", params={"process_key": "billing_dispute"}).json()
        first = next(i for i in items if i["instance_id"] == instance)
        assert first["element_id"] == "explain_bill"
        done = api.post(
            f"/api/v1/work-items/{first['id']}/complete",
            json={
                "variables": {
                    "invoiceNumber": "INV-202612-42983",
                    "billTopic": "tariff-change",
                    "disputed": True,
                }
            },
        )
        assert done.status_code == 200, done.text
        items = api.get("/api/v1/work-items", params={"process_key": "billing_dispute"}).json()
        nxt = next(i for i in items if i["instance_id"] == instance)
        assert nxt["element_id"] == "investigate_charges"
        # routing's queue follows the event log (the server's worker ticks; here, at once)
        assert api.post("/api/v1/routing/tick").status_code == 200
        return str(nxt["id"])


def test_admin_adds_a_skilled_agent_who_then_gets_the_skilled_work(
    server: str, browser: Any
) -> None:
    base = server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _login(page, base, "admin")
    page.get_by_role("link", name="Admin").click()
    page.get_by_role("link", name="Users", exact=True).first.click()
    page.wait_for_url(f"{base}/admin/users")

    # a login in the billing department
    form = page.locator("#new-user")
    form.get_by_label("Username").fill("nina.new")
    form.get_by_label("Name", exact=True).fill("Nina New")
    form.get_by_label("E-mail").fill("nina@northwind.example")
    form.get_by_label("agent", exact=True).check()
    form.get_by_label("Groups").fill("billing")
    form.get_by_label("Initial password").fill("nina-password")
    form.get_by_role("button", name="Create user").click()
    assert "User nina.new created." in page.locator("#notice").inner_text()
    assert page.locator('tr[data-user="nina.new"]').count() == 1

    # the agent, first with a mistake the page names on its field, then right
    page.goto(f"{base}/admin/agents")
    agent_form = page.locator("#new-agent")
    agent_form.get_by_label("Username").fill("nina.new")
    agent_form.get_by_label("Name", exact=True).fill("Nina New")
    agent_form.get_by_label("New skill 1", exact=True).fill("billing-disputes")
    agent_form.get_by_label("Level of new skill 1", exact=True).select_option("3")
    agent_form.get_by_label("Languages").fill("en, nl")
    agent_form.get_by_role("button", name="Add agent").click()
    assert "Choose the agent's department" in page.locator("#err-department").inner_text()
    agent_form = page.locator("#new-agent")
    agent_form.get_by_label("Department").select_option("billing")
    agent_form.get_by_role("button", name="Add agent").click()
    assert "Agent nina.new added." in page.locator("#notice").inner_text()
    row = page.locator('tr[data-agent="nina.new"]')
    assert "billing-disputes 3" in row.inner_text() and "billing" in row.inner_text()
    page.screenshot(path=str(screenshots.folder() / "admin-agents.png"), full_page=True)
    page.close()

    item_id = _dispute_at_investigation(base, "FD-ADMIN-SKILL")
    with httpx.Client(base_url=base, timeout=30) as api:  # routing weighs the skill, too
        api.post("/api/v1/auth/login", json={"username": "nina.new", "password": "nina-password"})
        presence = api.put("/api/v1/routing/agents/me/presence", json={"presence": "available"})
        assert presence.status_code == 200, presence.text
        peek = api.get("/api/v1/routing/next")
        assert peek.status_code == 200 and peek.json()["id"] == item_id, peek.text

    agent = browser.new_page()
    _login(agent, base, "nina.new", "nina-password")
    assert agent.get_by_role("link", name="Admin").count() == 0  # not an administrator
    agent.get_by_role("button", name="Next best work item").click()
    agent.wait_for_url(f"{base}/work/{item_id}*")
    assert "Investigate the disputed charges" in agent.locator("h1").inner_text()
    agent.close()
