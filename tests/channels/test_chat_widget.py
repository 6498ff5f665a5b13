"""The chat widget's protocol refuses what it did not issue: a forged or altered session token,
a chat without an email, an empty message; all 4xx, nothing stored."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from flowdesk.api.app import create_app
from flowdesk.settings import Settings
from flowdesk.store import Store


def test_forged_sessions_and_bad_messages_are_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    store = Store.open(url)
    store.upgrade()
    settings = Settings(
        database_url=url,
        chat_widget_secret="s3cret",  # type: ignore[arg-type]
        chat_widget_origins=["https://shop.example.org"],
    )
    with TestClient(create_app(settings, store)) as http:
        assert http.post("/api/v1/chat/sessions", content=b'{"email": "nope"}').status_code == 422
        assert http.post("/api/v1/chat/sessions", content=b"[1]").status_code == 422
        started = http.post(
            "/api/v1/chat/sessions",
            content=b'{"name": "Ada", "email": "ada@example.org"}',
            headers={"Origin": "https://shop.example.org", "Content-Type": "text/plain"},
        )
        assert started.status_code == 201
        assert started.headers["access-control-allow-origin"] == "https://shop.example.org"
        token = started.json()["session"]
        body, _, mac = token.partition(".")
        forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + mac
        for bad in (forged, "x.y", ""):
            answer = http.get("/api/v1/chat/messages", params={"session": bad, "wait": 0})
            assert answer.status_code == 422, bad
        empty = http.post("/api/v1/chat/messages", json={"session": token, "text": "  "})
        assert empty.status_code == 422
        nothing = http.get("/api/v1/chat/messages", params={"session": token, "wait": 0})
        assert nothing.json() == {"messages": [], "cursor": 0}
        other = http.post(
            "/api/v1/chat/sessions",
            content=b'{"email": "a@b.org"}',
            headers={"Origin": "https://evil.example"},
        )
        assert "access-control-allow-origin" not in other.headers
    store.close()
