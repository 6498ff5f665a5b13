"""The supervisor's wallboard in a real browser (Debian's Chromium through Playwright, a real
server on a free port): the supervisor opens the wallboard, drills into a department's
unassigned work and reassigns an item to an agent, who then finds it in My work. The wallboard
is saved as docs/screenshots/wallboard.png."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.web import screenshots
from tests.web.servers import running

from flowdesk.app.organisation import load_organisation, organisation_from
from flowdesk.cli.demo import default_demo_dir
from flowdesk.core.clock import SystemClock
from flowdesk.routing.service import RoutingService
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store
from flowdesk.testing.postgres import free_port

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
PASSWORD = "flowdesk-demo"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"{CHROMIUM} is absent: install Debian's chromium package to run the browser tests",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('wallboard') / 'flowdesk.db'}"
    port = free_port()
    launcher = Path(__file__).with_name("serve_web.py")
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, str(launcher), "--port", str(port), "--database-url", url]
    env = dict(os.environ, FLOWDESK_WEBHOOK_INTERVAL="0")
    with running(command, base, env=env, budget_s=60):
        yield base, url


def _seed(database_url: str) -> str:
    """The demo organisation in routing, a morning's work in a few departments, some agents
    signed in and working; returns the reference of the complaint to reassign."""
    store = Store.open(database_url)
    try:
        clock = SystemClock()
        organisation = organisation_from(default_demo_dir() / "company.yaml")
        assert organisation is not None
        load_organisation(store, clock, organisation)
        routing = RoutingService(store, clock=clock)
        runtime = ProcessRuntime(store, clock=clock)
        for agent, presence in (
            ("bokafor", "available"),
            ("enovak", "busy"),
            ("gbyrne", "available"),
            ("lmurphy", "available"),
            ("cmoreau", "away"),
        ):
            routing.set_presence(agent, presence)
        stamp = datetime.now(UTC).strftime("%H%M%S")
        flows = [
            ("complaint", "Maria van Dijk"),
            ("complaint", "Tom Berger"),
            ("complaint", "Lena Fischer"),
            ("billing_dispute", "Ivy Bill"),
            ("billing_dispute", "Omar Haddad"),
            ("account_takeover", "Nina Secure"),
        ]
        items = []
        for n, (key, name) in enumerate(flows):
            reference = f"FD-WALL-{stamp}-{n}"
            state = runtime.start(
                key, {"customerName": name, "caseRef": reference}, business_key=reference
            )
            items.append((reference, runtime.work_items(instance_id=state.id)[0]))
        runtime.claim(items[1][1]["id"], "enovak")
        runtime.claim(items[3][1]["id"], "lmurphy")
        return items[0][0]
    finally:
        store.close()


def _start(database_url: str, process_key: str, name: str, reference: str) -> None:
    store = Store.open(database_url)
    try:
        ProcessRuntime(store).start(
            process_key, {"customerName": name, "caseRef": reference}, business_key=reference
        )
    finally:
        store.close()


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/work")


def test_supervisor_reassigns_unassigned_work_from_the_wallboard(
    server: tuple[str, str], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, database_url = server
    reference = _seed(database_url)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            supervisor = browser.new_page(viewport={"width": 1280, "height": 900})
            _login(supervisor, base, "akeller")
            supervisor.get_by_role("link", name="Supervisor").click()
            supervisor.wait_for_url(f"{base}/supervisor")
            front = supervisor.locator('tr[data-department="front-office"]')
            unassigned = int(front.locator("td.unassigned a").inner_text())
            assert unassigned >= 3
            assert "available" in supervisor.locator('tr[data-agent="bokafor"]').inner_text()
            assert supervisor.locator("svg rect.bar-unassigned").count() >= 1
            supervisor.screenshot(path=str(screenshots.folder() / "wallboard.png"), full_page=True)

            # live: new work shows on the next poll of the panel, without a reload
            _start(database_url, "complaint", "Paula Poll", "FD-POLL-1")
            expect(front.locator("td.unassigned a")).to_have_text(
                str(unassigned + 1), timeout=15_000
            )

            front.locator("td.unassigned a").click()
            supervisor.wait_for_url(f"{base}/supervisor/work?department=front-office*")
            row = supervisor.locator("tr", has_text=reference)
            assert "Maria van Dijk" in row.inner_text()
            assert "unassigned" in row.locator("td.assignee").inner_text()
            supervisor.screenshot(
                path=str(screenshots.folder() / "wallboard-work.png"), full_page=True
            )
            row.get_by_label("Reassign to").select_option("bokafor")
            row.get_by_role("button", name="Reassign").click()
            supervisor.wait_for_url(f"{base}/supervisor/work?*notice=*")
            assert "Reassigned to bokafor." in supervisor.locator(".notice").inner_text()
            # it left the unassigned list
            assert supervisor.locator("tr", has_text=reference).count() == 0

            agent = browser.new_context().new_page()
            _login(agent, base, "bokafor")
            mine = agent.locator("tr", has_text=reference)
            assert mine.count() == 1
            assert "bokafor" in mine.inner_text()
            agent.screenshot(path=str(tmp_path / "my-work.png"))
        finally:
            browser.close()
