"""Every page each role can reach, opened in headless Chromium against a real `flowdesk serve`
with the demo company, a day of seeded history and a few fresh contacts (email, SMS, chat, one
the reason model cannot place, so triage has work).

Per role (agent bokafor, supervisor akeller, admin, and a customer who is not logged in) the
crawler logs in and follows every same-site link and GET form with its defaults (GET only:
/logout and other links with side effects are skipped), breadth first, at most PAGES pages
and PER_SHAPE pages per shape of address (a path with its ids and the names of its query
parameters), so forty case pages or every filter combination of a dashboard do not crowd out
the rest. It fails on:

- a 5xx answer to anything the page loads (navigations, htmx fragments, assets);
- a navigation answered with JSON (a raw error body rendered as a page);
- a script, style, image or font (or anything else) from another host: such requests are
  intercepted and aborted, and listed;
- a console error or an uncaught exception in the page (a broken link's 404 shows here too).

What each crawl visited is written to var/test-artifacts/web/crawl-<role>.txt.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urldefrag, urlsplit

import httpx
import pytest
from tests.web import screenshots, test_browser
from tests.web.servers import demo_server
from tests.web.test_browser import CHROMIUM, _login

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"{CHROMIUM} is absent: install Debian's chromium package to run the browser tests",
)
browser = test_browser.browser
PASSWORD = "flowdesk-demo"
HOST = "127.0.0.1"
PAGES = 300
PER_SHAPE = 4
#: Addresses a GET link must not be followed to: logging out ends the crawl's session.
SIDE_EFFECTS = re.compile(r"^/(logout)(/|$)")
ID_LIKE = re.compile(r"^(?=.*\d)[0-9A-Za-z_-]{8,}$")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of `flowdesk serve` with the demo, a day of history and fresh contacts."""
    folder = tmp_path_factory.mktemp("crawl")
    with demo_server(folder, "--seed-days", "1", budget_s=120, host=HOST) as (base, _):
        _contacts(base)
        yield base


def _contacts(base: str) -> None:
    """Fresh work in the queues, through the channel webhooks as the channels deliver it."""
    with httpx.Client(base_url=base, timeout=30) as admin:
        login = admin.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
        assert login.status_code == 200, login.text
        mail = EmailMessage()
        mail["From"] = "Cora Crawl <cora.crawl@example.com>"
        mail["To"] = "service@northwind.example"
        mail["Subject"] = "My bill"
        mail["Message-ID"] = "<cora-1@example.com>"
        mail.set_content("I want to make a complaint about my bill, it is wrong.")
        vague = EmailMessage()
        vague["From"] = "Vic Vague <vic.vague@example.com>"
        vague["To"] = "service@northwind.example"
        vague["Subject"] = "Hello"
        vague["Message-ID"] = "<vic-1@example.com>"
        vague.set_content("Hello, please call me back about the thing.")
        for message in (mail, vague):
            posted = admin.post(
                "/api/v1/webhooks/email",
                content=message.as_bytes(),
                headers={"Content-Type": "message/rfc822"},
            )
            assert posted.status_code == 201, posted.text
        for channel, body in {
            "sms": {"from": "+447946033333", "text": "I want to cancel my contract"},
            "chat": {
                "session_id": "chat-crawl-1",
                "email": "chat.crawl@example.com",
                "text": "I am moving house next month",
            },
        }.items():
            posted = admin.post(
                f"/api/v1/webhooks/{channel}",
                content=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
            )
            assert posted.status_code == 201, posted.text


def _shape(path: str, query: str) -> tuple[str, tuple[str, ...]]:
    """The path with id-like segments as {id}, and the names of the query parameters."""
    segments = ["{id}" if ID_LIKE.match(s) else s for s in path.split("/")]
    keys = sorted({pair.partition("=")[0] for pair in query.split("&") if pair})
    return "/".join(segments), tuple(keys)


@dataclass
class Crawl:
    base: str
    visited: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    current: str = ""

    def problem(self, what: str) -> None:
        self.problems.append(f"{self.current}: {what}")


def _watch(page: Any, crawl: Crawl) -> None:
    """Abort and list requests to other hosts; collect console errors, page errors, 5xx."""

    def route(handled: Any) -> None:
        if urlsplit(handled.request.url).hostname == HOST:
            handled.continue_()
        else:
            crawl.foreign.append(
                f"{crawl.current}: {handled.request.resource_type} {handled.request.url}"
            )
            handled.abort()

    def console(message: Any) -> None:
        if message.type == "error":
            crawl.problem(f"console error: {message.text} ({message.location.get('url', '')})")

    def response(answer: Any) -> None:
        if answer.status >= 500:
            crawl.problem(f"{answer.status} for {answer.request.method} {answer.url}")

    page.route("**/*", route)
    page.on("console", console)
    page.on("pageerror", lambda error: crawl.problem(f"uncaught exception: {error}"))
    page.on("response", response)


#: Links, and the address each GET form (search, dashboard filters) opens with its defaults.
LINKS = """() => [
  ...Array.from(document.querySelectorAll("a[href]"), a => a.href),
  ...Array.from(document.querySelectorAll("form"))
    .filter(f => (f.getAttribute("method") || "get").toLowerCase() === "get")
    .map(f => {
      const url = new URL(f.action, location.href);
      url.search = new URLSearchParams(new FormData(f)).toString();
      return url.href;
    }),
]"""


def _links(page: Any) -> list[str]:
    return [str(h) for h in page.evaluate(LINKS)]


def _visit(page: Any, url: str, crawl: Crawl) -> list[str]:
    """Open one address; the same-site links it shows (none for a download or a non-page)."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        answer = page.goto(url, wait_until="load")
    except PlaywrightError as error:
        if "Download is starting" not in str(error):
            crawl.problem(f"navigation failed: {str(error).splitlines()[0]}")
            return []
        fetched = page.context.request.get(url)  # a file to save (CSV ...): just its status
        if fetched.status >= 500:
            crawl.problem(f"{fetched.status} for the download")
        return []
    if answer is None:
        return []
    kind = answer.headers.get("content-type", "")
    if "json" in kind:
        crawl.problem(f"a navigation answered {answer.status} with {kind}: {answer.text()[:200]}")
        return []
    if "html" not in kind:
        return []
    if page.locator("[hx-trigger^='load'], [hx-trigger*=' load']").count():
        page.wait_for_load_state("networkidle")  # the fragments the page loads at once
    return _links(page)


def crawl_as(browser: Any, base: str, username: str | None) -> Crawl:
    """Log in as `username` and crawl breadth first from the page the login lands on; with
    no username, crawl what a customer sees from the status page and the login page."""
    context = browser.new_context(viewport=screenshots.VIEWPORT)
    crawl = Crawl(base)
    try:
        page = context.new_page()
        _watch(page, crawl)
        starts = [f"{base}/status", f"{base}/login"]
        if username is not None:
            crawl.current = f"{base}/login"
            _login(page, base, username)
            page.wait_for_url(lambda u: not u.startswith(f"{base}/login"))
            starts = [page.url]
        queue: deque[str] = deque(starts)
        seen = set(starts)
        shapes: Counter[tuple[str, tuple[str, ...]]] = Counter()
        while queue and len(crawl.visited) < PAGES:
            url = queue.popleft()
            crawl.current = url
            crawl.visited.append(url)
            for link in _visit(page, url, crawl):
                link = urldefrag(link).url
                parts = urlsplit(link)
                if parts.hostname != HOST or parts.port != urlsplit(base).port:
                    continue
                if link in seen or SIDE_EFFECTS.match(parts.path):
                    continue
                seen.add(link)
                shape = _shape(parts.path, parts.query)
                if shapes[shape] >= PER_SHAPE:
                    continue
                shapes[shape] += 1
                queue.append(link)
    finally:
        context.close()
    report = screenshots.ARTIFACTS / f"crawl-{username or 'customer'}.txt"
    report.parent.mkdir(parents=True, exist_ok=True)
    who = username or "a customer"
    lines = [f"{len(crawl.visited)} pages as {who}", *crawl.visited, "", "problems:"]
    report.write_text("\n".join(lines + crawl.problems + crawl.foreign) + "\n")
    return crawl


@pytest.mark.parametrize(
    ("username", "must_see"),
    [
        ("bokafor", ["/work", "/outbox", "/knowledge/"]),
        ("akeller", ["/supervisor", "/dashboards", "/analysis", "/triage/"]),
        ("admin", ["/supervisor", "/dashboards", "/analysis", "/admin/"]),
        (None, ["/status", "/login"]),
    ],
)
def test_every_page_a_role_reaches_renders_cleanly(
    served: str, browser: Any, username: str | None, must_see: list[str]
) -> None:
    crawl = crawl_as(browser, served, username)
    paths = [urlsplit(u).path for u in crawl.visited]
    for prefix in must_see:  # the crawl really went through the product
        assert any(p.startswith(prefix) for p in paths), (prefix, crawl.visited)
    assert len(crawl.visited) >= (10 if username else 2), crawl.visited
    assert crawl.foreign == [], "\n".join(crawl.foreign)
    assert crawl.problems == [], "\n".join(crawl.problems)


def test_tabs_log_no_errors_without_interception(served: str, browser: Any) -> None:
    """With request interception on, Chromium asks for no tab icon, so a missing one (a 404
    console error in every tab) escapes the crawl: open a few pages of each kind without it."""
    base = served
    visits: dict[str | None, list[str]] = {
        None: ["/status", "/login"],
        "bokafor": ["/work", "/outbox", "/knowledge/search"],
        "akeller": ["/supervisor", "/dashboards", "/analysis"],
    }
    errors: list[str] = []
    hosts: set[str | None] = set()

    def console(message: Any) -> None:
        if message.type == "error":
            errors.append(f"{message.text} {message.location}")

    for username, paths in visits.items():
        context = browser.new_context(viewport=screenshots.VIEWPORT)
        try:
            page = context.new_page()
            page.on("request", lambda r: hosts.add(urlsplit(r.url).hostname))
            page.on("console", console)
            if username:
                _login(page, base, username)
                page.wait_for_url(lambda u: not u.startswith(f"{base}/login"))
            for path in paths:
                page.goto(f"{base}{path}")
                page.wait_for_timeout(400)  # the tab icon is asked for after the load
        finally:
            context.close()
    assert errors == [], "\n".join(errors)
    assert hosts <= {HOST}, hosts


class _Broken(BaseHTTPRequestHandler):
    """A site with every fault the crawler must report, and a /logout it must not open."""

    PAGES: ClassVar[dict[str, tuple[int, str, str]]] = {
        "/status": (
            200,
            "text/html",
            '<a href="/boom">boom</a> <a href="/raw">raw</a> <a href="/logout">out</a>'
            '<script src="http://cdn.example.invalid/lib.js"></script>'
            '<script>console.error("broken on purpose")</script>',
        ),
        "/login": (200, "text/html", "<p>fine</p>"),
        "/boom": (500, "text/html", "<p>Internal Server Error</p>"),
        "/raw": (422, "application/json", '{"detail": "raw"}'),
        "/logout": (500, "text/html", "<p>must not be opened</p>"),
    }

    def do_GET(self) -> None:
        status, kind, body = self.PAGES.get(self.path, (404, "text/html", "missing"))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


def test_the_crawler_reports_what_it_should(browser: Any) -> None:
    """The crawler itself can fail: a 5xx page, a JSON page, a foreign script and a console
    error are each reported, and /logout is never opened."""
    server = ThreadingHTTPServer((HOST, 0), _Broken)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        crawl = crawl_as(browser, f"http://{HOST}:{server.server_address[1]}", None)
    finally:
        server.shutdown()
        server.server_close()
    visited = {urlsplit(u).path for u in crawl.visited}
    assert visited == {"/status", "/login", "/boom", "/raw"}, visited
    found = "\n".join(crawl.problems)
    assert "500 for GET" in found and "/boom" in found, found
    assert "application/json" in found, found
    assert "broken on purpose" in found, found
    assert [f for f in crawl.foreign if "cdn.example.invalid/lib.js" in f], crawl.foreign
