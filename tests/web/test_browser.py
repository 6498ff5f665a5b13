"""The desktop in a real browser: Debian's Chromium (never a downloaded one) driven by
Playwright against a real server on a free port with a fresh SQLite database and the demo
company. Screenshots go to var/test-artifacts/web/."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.web.servers import running

from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store
from flowdesk.testing.postgres import free_port

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts" / "web"
PASSWORD = "flowdesk-demo"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"{CHROMIUM} is absent: install Debian's chromium package to run the browser tests",
)


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Any, int]]:
    """A real SMTP server (aiosmtpd) the served app sends its email replies to."""
    from tests.channels.test_email_smtp import serving_sink

    with serving_sink() as served:
        yield served


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, mailbox: tuple[Any, int]
) -> Iterator[tuple[str, str]]:
    """(base URL, database URL) of a running server with the demo loaded."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'flowdesk.db'}"
    port = free_port()
    launcher = Path(__file__).with_name("serve_web.py")
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, str(launcher), "--port", str(port), "--database-url", url]
    env = dict(
        os.environ,
        FLOWDESK_WEBHOOK_INTERVAL="0",
        FLOWDESK_SMTP_HOST="127.0.0.1",
        FLOWDESK_SMTP_PORT=str(mailbox[1]),
        FLOWDESK_SMTP_FROM="service@northwind.example",
    )
    with running(command, base, env=env, budget_s=60):
        yield base, url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _start_complaint(database_url: str, reference: str, name: str) -> str:
    store = Store.open(database_url)
    try:
        state = ProcessRuntime(store).start(
            "complaint",
            {"customerName": name, "reason": "complaint", "caseRef": reference},
            business_key=reference,
        )
        return str(state.id)
    finally:
        store.close()


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _login(page: Any, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_wrong_password_shows_an_error(server: tuple[str, str], browser: Any) -> None:
    base, _ = server
    page = browser.new_page()
    _login(page, base, "bokafor", "not-the-password")
    assert page.locator("#login-error").inner_text() == "Wrong username or password."
    assert page.url.startswith(f"{base}/login")
    _shot(page, "login-error")
    page.close()


def test_agent_follows_the_script_and_completes_the_step(
    server: tuple[str, str], browser: Any
) -> None:
    base, database_url = server
    reference = "FD-BROWSER1"
    _start_complaint(database_url, reference, "Jane Doe")
    page = browser.new_page()
    _login(page, base, "bokafor")
    page.wait_for_url(f"{base}/work")
    row = page.locator("tr", has_text=reference)
    assert row.count() == 1
    assert "Register complaint" in row.inner_text()
    _shot(page, "my-work")

    row.get_by_role("link").click()
    page.wait_for_url(f"{base}/work/*")
    case_url = page.url
    suggestion = page.locator("#suggestions a").first  # the knowledge panel's top article
    title = suggestion.inner_text()
    suggestion.click()
    assert page.locator("h1").inner_text() == title
    page.get_by_role("link", name="Back to the case").click()
    page.wait_for_url(case_url)
    media = page.locator("#step-media")
    assert "depends on earlier answers" in media.inner_text()
    with_htmx = page.evaluate("typeof window.htmx !== 'undefined'")

    def answer(severity: str) -> None:
        page.get_by_label("How severe is it?").select_option(severity)
        if not with_htmx:  # progressive enhancement: the same form, re-rendered by the server
            page.get_by_role("button", name="Update script").click()

    page.get_by_label("What is the complaint about?").select_option("billing")
    answer("high")
    page.get_by_role("radio", name="Yes").wait_for()  # the branch for high severity appears
    assert page.locator("#step-media input[type=radio]").count() == 2
    assert "depends on earlier answers" not in page.locator("#step-media").inner_text()
    answer("low")
    page.locator("#step-media").wait_for(state="detached")
    page.get_by_label("What outcome does the customer expect?").fill("A corrected bill")
    _shot(page, "case-script")

    page.get_by_role("button", name="Complete").click()
    page.wait_for_url(f"{base}/work?notice=*")
    assert "Completed: Register complaint" in page.locator(".notice").inner_text()
    # the flow moved on: the next step (resolve the complaint) is in the front office queue
    assert "Register complaint" not in page.locator("tr", has_text=reference).all_inner_texts()
    assert "Resolve complaint" in " ".join(page.locator("tr", has_text=reference).all_inner_texts())
    _shot(page, "completed")
    page.close()


def test_supervisor_sees_queue_counts(server: tuple[str, str], browser: Any) -> None:
    base, database_url = server
    _start_complaint(database_url, "FD-BROWSER2", "Sam Super")
    page = browser.new_page()
    _login(page, base, "akeller")
    page.goto(f"{base}/supervisor")
    cell = page.locator('tr[data-department="front-office"] td.open')
    assert int(cell.inner_text()) >= 1
    _shot(page, "supervisor")
    page.close()


def test_customer_checks_the_status_on_a_phone(server: tuple[str, str], browser: Any) -> None:
    base, database_url = server
    reference = "FD-BROWSER3"
    _start_complaint(database_url, reference, "Maria van Dijk")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{base}/status")
    page.get_by_label("Case reference").fill(reference)
    page.get_by_label("Your last name, postcode or email address").fill("Jansen")
    page.get_by_role("button", name="Show status").click()
    assert "could not find a case" in page.locator("#status-error").inner_text()
    assert page.locator("#status-texts").count() == 0

    page.get_by_label("Your last name, postcode or email address").fill("van Dijk")
    page.get_by_role("button", name="Show status").click()
    texts = page.locator("#status-texts").inner_text()
    assert f"We have registered your complaint {reference}." in texts
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # no sideways scrolling on a phone
    _shot(page, "status-phone")
    context.close()


def test_agent_replies_to_the_customers_email(
    server: tuple[str, str], browser: Any, mailbox: tuple[Any, int]
) -> None:
    from email.message import EmailMessage

    from flowdesk.contacts.intake import Intake

    base, database_url = server
    sink, _ = mailbox
    message = EmailMessage()
    message["From"] = "Rita Reply <rita.reply@example.com>"
    message["To"] = "service@northwind.example"
    message["Subject"] = "Wrong bill"
    message["Message-ID"] = "<rita-1@example.com>"
    message.set_content("I want to make a complaint about my bill.")
    store = Store.open(database_url)
    try:
        result = Intake(store, default_region="GB").submit("email", message.as_bytes())
        [item] = ProcessRuntime(store).work_items(instance_id=result.instance_id)
    finally:
        store.close()
    page = browser.new_page()
    _login(page, base, "bokafor")
    page.wait_for_url(f"{base}/work")
    page.goto(f"{base}/work/{item['id']}")
    assert "rita.reply@example.com" in page.locator("#case-contacts").inner_text()
    page.get_by_label("Your reply to the customer").fill("Sorry, Rita: we corrected the bill.")
    _shot(page, "case-reply")
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_url(f"{base}/work/*?notice=*")
    assert "Reply sent by email to rita.reply@example.com" in page.locator(".notice").inner_text()
    deadline = time.monotonic() + 10
    while not sink.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    [mail] = [m for m in sink.messages if m["To"] == "rita.reply@example.com"]
    assert mail["In-Reply-To"] == "<rita-1@example.com>"
    assert f"[{result.case_reference}]" in str(mail["Subject"])
    assert "we corrected the bill" in page.locator("#timeline").inner_text()
    page.close()


def test_customer_adds_a_photo_on_a_phone(server: tuple[str, str], browser: Any) -> None:
    import io

    from PIL import Image

    base, database_url = server
    reference = "FD-BROWSER4"
    _start_complaint(database_url, reference, "Pia Photo")
    picture = io.BytesIO()
    Image.new("RGB", (1200, 900), (30, 120, 200)).save(picture, "JPEG")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{base}/status")
    page.get_by_label("Case reference").fill(reference)
    page.get_by_label("Your last name, postcode or email address").fill("Photo")
    page.get_by_role("button", name="Show status").click()
    page.get_by_label("Add a photo").set_input_files(
        {"name": "meter.jpg", "mimeType": "image/jpeg", "buffer": picture.getvalue()}
    )
    page.get_by_label("About the photo").fill("The meter in the hall")
    page.get_by_role("button", name="Send photo").click()
    assert "your photo is on your case" in page.locator(".notice").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(page, "status-photo-phone")
    page.get_by_label("Add a photo").set_input_files(
        {"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"not a picture at all"}
    )
    page.get_by_role("button", name="Send photo").click()
    assert "not a JPEG or PNG photo" in page.locator("#status-error").inner_text()
    context.close()
