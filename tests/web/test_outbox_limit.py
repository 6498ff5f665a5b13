"""/outbox?limit= as people type it: a limit that is no number or out of range shows the page
with the default or the nearest bound, never a raw JSON validation error (the crawl's rule:
no navigation is answered with JSON), and a visitor who is not logged in is sent to log in."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import login


@pytest.mark.parametrize("limit", ["100000", "0", "-3", "abc", "", "2.5"])
def test_any_limit_shows_the_page(client: TestClient, limit: str) -> None:
    login(client, "akeller")
    answer = client.get(f"/outbox?limit={limit}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert "<h1>Outbox</h1>" in answer.text


def test_a_visitor_is_sent_to_log_in_whatever_the_limit(client: TestClient) -> None:
    answer = client.get("/outbox?limit=100000", follow_redirects=False)
    assert answer.status_code in (302, 303), answer.text
    assert answer.headers["location"].startswith("/login")
