"""The process analysis page in a real browser (Debian's Chromium), used with the keyboard only:
from the nav to a process, then the heatmap switched to durations with arrow keys and Enter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.web.servers import seeded_web
from tests.web.test_browser import CHROMIUM, _login, _shot, browser

__all__ = ["browser"]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"{CHROMIUM} is absent: install Debian's chromium package to run the browser tests",
)
KEY = "billing_dispute"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with seeded_web(tmp_path_factory.mktemp("analysis-browser")) as base:
        yield base


def test_a_supervisor_reaches_the_heatmap_and_switches_it_by_keyboard(
    served: str, browser: Any
) -> None:
    page = browser.new_page()
    _login(page, served, "akeller")
    page.wait_for_url(f"{served}/work")
    nav = page.get_by_role("navigation", name="Main").get_by_role("link", name="Process analysis")
    nav.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{served}/analysis")
    link = page.locator(f'a[href="/analysis/{KEY}"]')
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{served}/analysis/{KEY}")

    heatmap = page.get_by_role("img", name="Heatmap of")
    assert heatmap.is_visible()
    assert page.locator("#fitness .kpi-value").first.inner_text() != "-"
    assert page.locator("#variants tbody tr").count() > 0
    _shot(page, "analysis-frequency")
    # the discovered model beside the deployed one, and the hand-off matrix, drawn and readable
    assert page.locator("#deployed-model svg").is_visible()
    assert page.locator("#discovered-model svg").is_visible()
    assert page.locator("#discovered-model svg [data-element-id]").count() > 3
    matrix = page.get_by_role("img", name="Hand-offs between departments")
    assert matrix.is_visible() and page.locator("#handoffs tbody tr").count() > 0
    with page.expect_download() as download:
        page.locator("#download-discovered").click()
    assert download.value.suggested_filename == f"{KEY}-discovered.bpmn"
    _shot(page, "analysis-discovered-handoffs")
    # the heuristics miner instead, chosen with the selector: its model replaces the other
    page.get_by_label("Miner").select_option("heuristic")
    page.get_by_role("button", name="Discover").click()
    page.wait_for_url(f"{served}/analysis/{KEY}?measure=frequency&miner=heuristic#h-discovered")
    assert "(heuristic miner" in page.locator("#discovered-fitness").inner_text()
    assert page.locator("#discovered-model svg [data-element-id]").count() > 3
    href = page.locator("#download-discovered").get_attribute("href")
    assert href is not None and href.endswith("miner=heuristic")
    page.goto(f"{served}/analysis/{KEY}")

    frequency = page.get_by_role("radio", name="how often each step ran")
    assert frequency.is_checked()
    frequency.focus()
    page.keyboard.press("ArrowDown")  # moves the choice within the radio group
    duration = page.get_by_role("radio", name="mean duration of each step")
    assert duration.is_checked()
    page.keyboard.press("Enter")  # submits the form the radio belongs to
    page.wait_for_url(f"{served}/analysis/{KEY}?measure=duration")
    assert page.get_by_role("radio", name="mean duration of each step").is_checked()
    titles = page.locator("#heatmap svg title").all_text_contents()
    assert any(t.endswith("(mean duration)") for t in titles)
    _shot(page, "analysis-duration")
    page.close()
