"""The what-if page in a real browser (Debian's Chromium), as the supervisor of the demo: from
the nav to /simulation, a prepared scenario as the starting point (the three early billing
agents on leave), edited further, run, and both sides read: SLA, waits, backlog, with the
charts drawn."""

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


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with seeded_web(tmp_path_factory.mktemp("simulation-browser")) as base:
        yield base


def test_a_supervisor_removes_three_billing_agents_and_compares(served: str, browser: Any) -> None:
    page = browser.new_page()
    _login(page, served, "akeller")
    page.wait_for_url(f"{served}/work")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="What if").click()
    page.wait_for_url(f"{served}/simulation")
    early = page.get_by_label("billing early")
    assert early.input_value() == "3"  # the copy starts as the baseline's roster
    # a prepared scenario of the company (scenarios/*.yaml) as the starting point
    starts = page.get_by_role("navigation", name="Starting points")
    starts.get_by_role("link", name="Price change, 30 % more billing questions").click()
    page.wait_for_url(f"{served}/simulation?start=price-change")
    assert "billing-inquiry: 1.3" in page.locator("#scenario-also").inner_text()
    starts.get_by_role("link", name="Three billing agents on leave").click()
    page.wait_for_url(f"{served}/simulation?start=billing-leave")
    assert early.input_value() == "0"  # the early billing shift is on leave
    assert page.get_by_label("Scenario").input_value() == "Three billing agents on leave"
    page.get_by_label("billing day").fill("2")  # and one more from the day shift
    page.get_by_label("Days").fill("3")
    page.get_by_label("Replications").fill("2")
    page.get_by_role("button", name="Run baseline and scenario").click()
    result = page.locator("#simulation-result")
    result.wait_for(timeout=60_000)
    billing = page.locator('tr[data-department="billing"] td')
    assert billing.nth(0).inner_text() == "6" and billing.nth(1).inner_text() == "2"
    side = page.get_by_role("table", name="Baseline and scenario side by side")
    sla = side.locator("tr", has_text="SLA attainment").locator("td")
    assert "%" in sla.nth(0).inner_text() and "%" in sla.nth(1).inner_text()
    assert page.get_by_role("img", name="Open work per day").is_visible()
    assert page.get_by_role("img", name="Mean wait before an agent takes the work").is_visible()
    assert page.get_by_label("billing early").input_value() == "0"  # the edit is kept
    _shot(page, "simulation")
