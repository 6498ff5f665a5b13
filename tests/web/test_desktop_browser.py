"""Issue 17's agent desktop in headless Chromium against `flowdesk serve` with the demo company:
the agent works from the keyboard (? help, n next best work, r reply box, / search), fills the
reply from a macro, sends it through the demo outbox and sees it in the case's conversation.
Screenshots of the queue and the case: see tests/web/screenshots.py."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from tests.web import screenshots, test_browser
from tests.web.servers import demo_server
from tests.web.test_browser import CHROMIUM, _login

from flowdesk.contacts.intake import Intake
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store
from flowdesk.web.rendering import htmx_available

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"{CHROMIUM} is absent: install Debian's chromium package to run the browser tests",
)
browser = test_browser.browser


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, database URL) of `flowdesk serve` with the demo and no sender settings."""
    with demo_server(tmp_path_factory.mktemp("desktop")) as served_:
        yield served_


def _email_case(
    database_url: str, name: str = "Kim Keys", address: str = "kim.keys@example.com"
) -> dict[str, str]:
    message = EmailMessage()
    message["From"] = f"{name} <{address}>"
    message["To"] = "service@northwind.example"
    message["Subject"] = "Charged twice"
    message["Message-ID"] = f"<{address}>"
    message.set_content("I want to make a complaint: my bill charged me twice this month.")
    store = Store.open(database_url)
    try:
        result = Intake(store, default_region="GB").submit("email", message.as_bytes())
        assert result.action == "started", result
        [item] = ProcessRuntime(store).work_items(instance_id=result.instance_id)
        return {"item": item["id"], "reference": str(result.case_reference)}
    finally:
        store.close()


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(screenshots.folder() / f"{name}.png"), full_page=True)


def test_agent_takes_the_next_item_and_replies_with_a_macro_from_the_keyboard(
    served: tuple[str, str], browser: Any
) -> None:
    base, database_url = served
    case = _email_case(database_url)
    page = browser.new_page(viewport={"width": 1400, "height": 950})
    try:
        _login(page, base, "bokafor")
        page.wait_for_url(f"{base}/work*")
        row = page.locator(f'tr[data-item="{case["item"]}"]')
        assert "Kim Keys" in row.inner_text() and "email" in row.inner_text()
        if htmx_available():  # the list polls every 15 s: new work shows without a reload
            later = _email_case(database_url, "Lea Later", "lea.later@example.com")
            page.locator(f'tr[data-item="{later["item"]}"]').wait_for(timeout=25_000)
            assert "Lea Later" in page.locator("#queue-list").inner_text()
            assert page.url == f"{base}/work"  # same page, no navigation
        _shot(page, "desktop-queue-filters")

        page.keyboard.press("?")
        assert page.locator("#shortcut-help").is_visible()
        assert "Next best work item" in page.locator("#shortcut-help").inner_text()
        page.keyboard.press("Escape")
        assert not page.locator("#shortcut-help").is_visible()

        page.keyboard.press("n")  # next best work: the oldest front-office item, claimed
        page.wait_for_url(f"{base}/work/{case['item']}")
        page.keyboard.press("r")
        assert page.evaluate("document.activeElement.id") == "reply-text"
        page.keyboard.press("Escape")  # leave the box: keys are shortcuts again

        page.locator("#reply-macro").select_option("acknowledge")
        page.locator("#use-macro").click()
        page.wait_for_load_state()
        text = page.locator("#reply-text").input_value()
        assert text.startswith("Dear Kim Keys,") and case["reference"] in text
        assert "Ben Okafor, Northwind Energy & Fibre" in text
        page.locator("#send-reply").click()
        page.wait_for_url(f"{base}/work/{case['item']}?notice=*")
        assert "Reply sent by email to kim.keys@example.com" in page.locator(".notice").inner_text()

        thread = page.locator("#conversation > li")
        assert thread.count() == 2
        assert thread.nth(0).get_attribute("data-direction") == "in"
        assert "charged me twice" in thread.nth(0).inner_text()
        assert thread.nth(1).get_attribute("data-direction") == "out"
        assert "We are looking into it" in thread.nth(1).inner_text()
        assert "Ben Okafor" in thread.nth(1).inner_text()
        assert "Reply sent by email by Ben Okafor" in page.locator("#timeline").inner_text()
        _shot(page, "desktop-case")

        page.keyboard.press("/")
        assert page.evaluate("document.activeElement.id") == "header-search"
        page.keyboard.type(case["reference"])
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/search?q=*")
        assert case["reference"] in page.locator("#case-results").inner_text()
    finally:
        page.close()
