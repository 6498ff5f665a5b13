"""One working day, played in headless Chromium against a real `flowdesk serve` with the demo
company and no sender settings (so the demo outbox is on, as on a newcomer's machine).

A customer emails the company: `flowdesk serve` has no inbound SMTP server of its own, so the
company's mail gateway posts the RFC 5322 message to the email webhook with an API key the
administrator created over REST. The complaint lands in the front office queue; the agent takes
it with "Next best work item", answers the customer (the reply is on /outbox and reached the
demo SMTP server), the customer adds information on the status page with the case reference,
the agent sees it on the case page, follows the script and completes the step; after a worker
round the customer's case update is on /outbox too. The supervisor's queue figures and the
dashboard's "Cases opened" move with it. Selectors are roles, labels and visible text, so the
test keeps working while the pages grow. Screenshots: tests/web/screenshots.py.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.web import screenshots, test_browser
from tests.web.servers import demo_server
from tests.web.test_browser import CHROMIUM, _login

from flowdesk.store import Store

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"{CHROMIUM} is absent: install Debian's chromium package to run the browser tests",
)
browser = test_browser.browser
PASSWORD = "flowdesk-demo"
CUSTOMER = "dana.day@example.com"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, database URL) of `flowdesk serve` with the demo, no history, no senders."""
    with demo_server(tmp_path_factory.mktemp("day"), "--seed-days", "0") as served_:
        yield served_


def _mail_gateway_key(base: str) -> str:
    """The administrator creates an API key for the mail gateway (REST, as documented)."""
    with httpx.Client(base_url=base, timeout=30) as admin:
        login = admin.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
        assert login.status_code == 200, login.text
        made = admin.post("/api/v1/api-keys", json={"name": "mail gateway"})
        assert made.status_code == 201, made.text
        return str(made.json()["key"])


def _customer_emails(base: str, key: str) -> str:
    """Dana's email, posted as the gateway received it; returns the case reference."""
    mail = EmailMessage()
    mail["From"] = f"Dana Day <{CUSTOMER}>"
    mail["To"] = "service@northwind.example"
    mail["Subject"] = "Complaint: my bill is wrong again"
    mail["Message-ID"] = "<dana-day-1@example.com>"
    mail.set_content("I want to make a complaint about my bill, it is wrong again this month.")
    answer = httpx.post(
        f"{base}/api/v1/webhooks/email",
        content=mail.as_bytes(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "message/rfc822"},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["action"] == "started", body
    assert body["recognition"]["reason"] == "complaint", body
    return str(body["case_reference"])


def _number(text: str) -> int:
    found = re.findall(r"\d+", text)
    assert found, f"no number in {text!r}"
    return int(found[-1])


def _cell(page: Any, table_name: str, row_text: str, column: str) -> int | None:
    """The number in `column` of the row naming `row_text` in the table called `table_name`
    (None when there is no such row, e.g. a queue without open work)."""
    table = page.get_by_role("table", name=table_name)
    headers = [h.strip() for h in table.get_by_role("columnheader").all_inner_texts()]
    row = table.get_by_role("row").filter(has_text=row_text)
    if row.count() == 0:
        return None
    cells = row.first.locator("th, td").all_inner_texts()
    return _number(cells[headers.index(column)])


def _figures(page: Any, base: str) -> dict[str, int]:
    """What the supervisor reads: open front-office work, and the dashboard's cases opened."""
    page.goto(f"{base}/supervisor")
    open_work = _cell(page, "Queues per department", "front-office", "Open") or 0
    page.goto(f"{base}/dashboards")
    tile = page.get_by_role("listitem").filter(has_text="Cases opened").first
    return {"front-office open": open_work, "cases opened": _number(tile.inner_text())}


def _sent_to_customer(database_url: str) -> list[dict[str, Any]]:
    """What the demo outbox's SMTP server received for Dana (from the event log)."""
    store = Store.open(database_url)
    try:
        received = store.events.where(type="demo.outbox.received")
    finally:
        store.close()
    return [e.data for e in received if e.channel == "email" and e.data.get("to") == CUSTOMER]


def _received(database_url: str, wanted: Any, budget_s: float = 10) -> list[dict[str, Any]]:
    """Wait until the demo SMTP server got a message for Dana that `wanted` accepts."""
    deadline = time.monotonic() + budget_s
    while True:
        got = _sent_to_customer(database_url)
        if any(wanted(m) for m in got) or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def _wait_on_outbox(page: Any, base: str, *texts: str, budget_s: float = 30) -> Any:
    """Reload /outbox until one row shows all of `texts` (the worker round runs each second)."""
    deadline = time.monotonic() + budget_s
    while True:
        page.goto(f"{base}/outbox")
        rows = page.get_by_role("row")
        for text in texts:
            rows = rows.filter(has_text=text)
        if rows.count() or time.monotonic() > deadline:
            assert rows.count() == 1, f"no outbox row with {texts}: {page.inner_text('main')}"
            return rows.first
        time.sleep(0.5)


def _follow_the_script(page: Any) -> None:
    """Answer the complaint script as the agent does; htmx re-renders it on each change."""
    page.get_by_label("What is the complaint about?").select_option("billing")
    page.get_by_label("How severe is it?").select_option("low")
    if not page.evaluate("typeof window.htmx !== 'undefined'"):
        page.get_by_role("button", name="Update script", exact=True).click()
    # low severity: the press/lawyer question that waited on the answer goes away
    page.get_by_text("depends on earlier answers").wait_for(state="detached")
    page.get_by_label("What outcome does the customer expect?").fill("A corrected bill")


def test_a_complaint_from_email_to_notification(served: tuple[str, str], browser: Any) -> None:
    base, database_url = served
    supervisor = browser.new_context(viewport=screenshots.VIEWPORT)
    desk = browser.new_context(viewport=screenshots.VIEWPORT)
    customer = browser.new_context(viewport=screenshots.VIEWPORT)
    try:
        boss = supervisor.new_page()
        _login(boss, base, "akeller")
        boss.wait_for_url(f"{base}/work*")
        before = _figures(boss, base)

        reference = _customer_emails(base, _mail_gateway_key(base))
        # Dana hears back at once: the acknowledgement with her case reference is mailed to her
        mails = _received(database_url, lambda m: reference in m["text"])
        assert any(reference in m["text"] for m in mails), f"no acknowledgement: {mails}"

        # the supervisor sees the new case in the front office queue and on the dashboard
        after = _figures(boss, base)
        assert after == {
            "front-office open": before["front-office open"] + 1,
            "cases opened": before["cases opened"] + 1,
        }, (before, after)

        # the agent (front office) finds it in the queue and takes the next best work item
        agent = desk.new_page()
        _login(agent, base, "bokafor")
        agent.wait_for_url(f"{base}/work*")
        queued = agent.get_by_role("row").filter(has_text=reference)
        assert queued.count() == 1
        assert "Register complaint" in queued.inner_text()
        screenshots.save(agent, "desktop-queue")
        agent.get_by_role("button", name="Next best work item", exact=True).click()
        agent.wait_for_url(re.compile(rf"{re.escape(base)}/work/[^/?]+$"))
        case_url = agent.url
        assert "Register the complaint" in agent.get_by_role("heading", level=1).inner_text()
        assert reference in agent.inner_text("main")
        assert "it is wrong again this month" in agent.inner_text("main")  # her email

        # the agent answers Dana by email; the reply is on /outbox and reached the SMTP server
        reply = f"Dear Dana, we are looking into your bill now ({reference})."
        agent.get_by_label("Your reply to the customer").fill(reply)
        agent.get_by_role("button", name="Send reply", exact=True).click()
        agent.wait_for_url(f"{case_url}?notice=*")
        assert f"Reply sent by email to {CUSTOMER}" in agent.inner_text("main")
        agent.get_by_role("link", name="Outbox", exact=True).click()
        agent.wait_for_url(f"{base}/outbox*")
        assert reference in agent.get_by_role("row").filter(has_text=reply).inner_text()
        mails = _received(database_url, lambda m: m["text"].strip() == reply)
        assert any(m["text"].strip() == reply for m in mails), mails

        # Dana opens the status page with her reference and adds information
        status = customer.new_page()
        status.goto(f"{base}/status")
        status.get_by_label("Case reference").fill(reference)
        status.get_by_label("Your last name, postcode or email address").fill(CUSTOMER)
        status.get_by_role("button", name="Show status", exact=True).click()
        assert f"We have registered your complaint {reference}." in status.inner_text("main")
        told = "I was charged twice for November, 2 x 39.90 EUR."
        status.get_by_label("Add information").fill(told)
        status.get_by_role("button", name="Send", exact=True).click()
        assert "Thank you" in status.get_by_role("status").inner_text()
        screenshots.save(status, "status-page")

        # the agent sees Dana's message on the case, follows the script and completes the step
        agent.goto(case_url)
        assert agent.get_by_text(told).count() >= 1
        _follow_the_script(agent)
        screenshots.save(agent, "case")
        agent.get_by_role("button", name="Complete", exact=True).click()
        agent.wait_for_url(f"{base}/work?notice=*")
        assert "Completed: Register complaint" in agent.inner_text("main")
        moved_on = agent.get_by_role("row").filter(has_text=reference)
        assert "Resolve complaint" in moved_on.inner_text()

        # after a worker round Dana is told her case moved on: on /outbox and by email
        update = _wait_on_outbox(agent, base, f"Update on your case {reference}")
        assert "We are working on your complaint" in update.inner_text()
        assert CUSTOMER in update.inner_text()
        screenshots.save(agent, "outbox")
        subject = f"Update on your case {reference}"
        mails = _received(database_url, lambda m: subject in m.get("subject", ""))
        assert any(subject in m.get("subject", "") for m in mails), mails

        # the supervisor's figures: still one open front-office item (resolve replaced register)
        final = _figures(boss, base)
        assert final["front-office open"] == after["front-office open"], final
        assert final["cases opened"] == after["cases opened"], final
    finally:
        for context in (supervisor, desk, customer):
            context.close()
