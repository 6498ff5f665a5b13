"""The case page in headless Chromium against `flowdesk serve` with the demo company: the agent
sees the next best actions with their script line, accepts one with one click and sees the
outcome recorded (and the model that learned from it)."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from tests.web import test_browser
from tests.web.servers import demo_server
from tests.web.test_browser import CHROMIUM, _login

from flowdesk.contacts.intake import Intake
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"{CHROMIUM} is absent: install Debian's chromium package to run the browser tests",
)
browser = test_browser.browser


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    with demo_server(tmp_path_factory.mktemp("nba"), "--seed-days", "0") as served_:
        yield served_


def _email_case(database_url: str) -> str:
    message = EmailMessage()
    message["From"] = "Nora Next <nora.next@example.com>"
    message["To"] = "service@northwind.example"
    message["Subject"] = "Charged twice"
    message["Message-ID"] = "<nora.next@example.com>"
    message.set_content("I want to make a complaint: my bill charged me twice this month.")
    store = Store.open(database_url)
    try:
        result = Intake(store, default_region="GB").submit("email", message.as_bytes())
        assert result.action == "started", result
        [item] = ProcessRuntime(store).work_items(instance_id=result.instance_id)
        return str(item["id"])
    finally:
        store.close()


def test_agent_accepts_a_next_best_action_and_sees_the_outcome_recorded(
    served: tuple[str, str], browser: Any
) -> None:
    base, database_url = served
    item = _email_case(database_url)
    page = browser.new_page(viewport={"width": 1400, "height": 950})
    try:
        _login(page, base, "bokafor")
        page.wait_for_url(f"{base}/work*")
        page.goto(f"{base}/work/{item}")
        panel = page.locator("#next-best-action")
        shown = [f.get_attribute("action") for f in panel.locator("form").all()]
        assert shown
        # viewing the page again shows the same presentations (same decision ids, same order):
        # nothing new is recorded and the contact policy is not used up by reloads
        page.reload()
        assert [f.get_attribute("action") for f in panel.locator("form").all()] == shown
        # the complaint is open: the offers are suppressed, the service action is not
        action = panel.locator('li[data-action="app-education"]')
        assert "Northwind app" in action.locator(".nba-script").inner_text()
        assert 'li[data-action="retention-discount"]' not in panel.inner_html()
        action.get_by_role("button", name="Accept").click()
        page.wait_for_url(f"{base}/work/{item}?notice=*")
        assert "Next best action accepted" in page.locator(".notice").inner_text()
        recorded = page.locator("#nba-outcomes")
        assert "Show the Northwind app: accepted" in recorded.inner_text()
        # accepted once, not offered again
        assert page.locator('#next-best-action li[data-action="app-education"]').count() == 0
    finally:
        page.close()
