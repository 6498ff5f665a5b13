"""Hostile input through the service API, on SQLite and PostgreSQL: every answer is a 4xx
problem document (never a 500), nothing bad is stored, and a dead letter's reason holds
neither SQL nor the customer's text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.api.test_service_api import Api, make_api

from flowdesk.core.clock import FixedClock
from flowdesk.store import Store

DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 5000 + b"1" + b"}" * 5000


@pytest.fixture
def api(
    store: Store, clock: FixedClock, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Api]:
    monkeypatch.setenv("FLOWDESK_WEBHOOK_INTERVAL", "0")
    yield from make_api(store, clock, database_url, max_body_bytes=1024 * 1024)


def _refused(response: Any, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def _count_contacts(api: Api) -> int:
    from sqlalchemy import func, select

    from flowdesk.contacts.models import contacts

    with api.store.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(contacts)).scalar_one())


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/v1/contacts", "application/json"),
        ("/api/v1/webhooks/chat", "application/json"),
        ("/api/v1/webhooks/sms", None),
        ("/api/v1/events", "application/cloudevents+json"),
        ("/api/v1/process-instances", "application/json"),
    ],
)
def test_deep_json_is_a_problem_not_a_server_error(
    api: Api, path: str, content_type: str | None
) -> None:
    headers = dict(api.as_("admin"))
    if content_type:
        headers["content-type"] = content_type
    for body in (DEEP, DEEP_OBJECT):
        problem = _refused(api.client.post(path, content=body, headers=headers))
        assert "nested" in problem["detail"]
    assert _count_contacts(api) == 0  # refused before anything was stored


@pytest.mark.parametrize(
    "text",
    ['"Bad \\ud800 text"', '"Bad \\u0000 text"', '"fine", "\\udc00key": 1'],
)
def test_bad_text_is_refused_at_the_edge(api: Api, text: str) -> None:
    body = ('{"channel": "chat", "email": "ann@example.com", "text": ' + text + "}").encode()
    headers = {**api.as_("admin"), "content-type": "application/json"}
    for path in ("/api/v1/contacts", "/api/v1/webhooks/chat"):
        problem = _refused(api.client.post(path, content=body, headers=headers))
        assert "NUL" in problem["detail"] or "surrogate" in problem["detail"]
    assert _count_contacts(api) == 0


def test_nul_in_address_query_and_form(api: Api) -> None:
    headers = api.as_("admin")
    _refused(api.client.get("/api/v1/contacts/ab%00cd", headers=headers))
    _refused(api.client.get("/api/v1/work-items?assignee=a%00b", headers=headers))
    _refused(
        api.client.post(
            "/login",
            content=b"username=a%00&password=b",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    )


def test_a_mail_with_nul_is_a_dead_letter_that_replays_cleanly(api: Api) -> None:
    """Mail does not pass the HTTP edge check (it is not JSON): the intake refuses its text,
    keeps it as a dead letter with a reason free of the mail's content, and a replay answers
    again with the same reason instead of a server error."""
    mail = (
        b"From: ann@example.com\r\nTo: help@example.com\r\nSubject: my secret\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nIBAN DE00 1234\x00 5678\r\n"
    )
    headers = {**api.as_("admin"), "content-type": "message/rfc822"}
    answer = api.client.post("/api/v1/webhooks/email", content=mail, headers=headers)
    problem = _refused(answer)
    assert "NUL" in problem["detail"]
    letters = api.client.get("/api/v1/contacts/dead-letters", headers=api.as_("admin")).json()
    assert len(letters) == 1
    error = letters[0]["error"]
    for leak in ("IBAN", "1234", "secret", "INSERT", "UPDATE", "SELECT"):
        assert leak not in error
    replayed = api.client.post(
        "/api/v1/contacts/dead-letters/replay", json={}, headers=api.as_("admin")
    )
    assert replayed.status_code == 200, replayed.text
    assert [r["status"] for r in replayed.json()] == ["failed"]


def test_a_number_is_not_a_date(api: Api) -> None:
    headers = api.as_("admin")
    for value in ("0.5", "1700000000", "-3"):
        problem = _refused(
            api.client.get(f"/api/v1/work-items?due_before={value}", headers=headers)
        )
        assert "ISO 8601" in problem["detail"]
    fine = api.client.get("/api/v1/work-items?due_before=2026-03-02T09:00:00Z", headers=headers)
    assert fine.status_code == 200


def test_wrong_method_names_the_allowed_ones(api: Api) -> None:
    answer = api.client.delete("/api/v1/contacts", headers=api.as_("admin"))
    _refused(answer, 405)
    assert "POST" in answer.headers["allow"]
