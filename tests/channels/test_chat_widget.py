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


def test_an_old_session_token_is_refused(tmp_path: Path) -> None:
    """A token signed by this server but begun more than a day ago reads nothing."""
    from datetime import UTC, datetime, timedelta

    from flowdesk.channels import chat_widget

    url = f"sqlite:///{tmp_path / 'chat.db'}"
    store = Store.open(url)
    store.upgrade()
    settings = Settings(database_url=url, chat_widget_secret="s3cret")  # type: ignore[arg-type]
    old = chat_widget.ChatSession(
        "abc", "ada@example.org", "Ada", datetime.now(UTC) - timedelta(hours=25)
    )
    token = chat_widget.issue("s3cret", old)
    with TestClient(create_app(settings, store)) as http:
        answer = http.get("/api/v1/chat/messages", params={"session": token, "wait": 0})
        assert answer.status_code == 422
        assert "expired" in answer.text
        written = http.post("/api/v1/chat/messages", json={"session": token, "text": "hello"})
        assert written.status_code == 422
        fresh = http.post("/api/v1/chat/sessions", json={"email": "ada@example.org"}).json()
        ok = http.get("/api/v1/chat/messages", params={"session": fresh["session"], "wait": 0})
        assert ok.status_code == 200
    store.close()


def test_waiting_widgets_hold_no_server_threads(tmp_path: Path) -> None:
    """Sixty widgets long-polling at once (more than the server's 40 worker threads) must not
    stop the server answering anyone else, and each poll waits its full time."""
    import threading
    import time

    import httpx
    import uvicorn

    from flowdesk.testing.postgres import free_port

    url = f"sqlite:///{tmp_path / 'chat.db'}"
    store = Store.open(url)
    store.upgrade()
    settings = Settings(database_url=url, chat_widget_secret="s3cret", load_demo=False)  # type: ignore[arg-type]
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, store), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    try:
        token = httpx.post(f"{base}/api/v1/chat/sessions", json={"email": "a@example.org"}).json()[
            "session"
        ]
        answers: list[tuple[int, float]] = []

        def poll() -> None:
            began = time.monotonic()
            got = httpx.get(
                f"{base}/api/v1/chat/messages",
                params={"session": token, "wait": 4},
                timeout=30,
            )
            answers.append((got.status_code, time.monotonic() - began))

        polls = [threading.Thread(target=poll) for _ in range(60)]
        for p in polls:
            p.start()
        time.sleep(1.0)  # every poll is waiting now
        began = time.monotonic()
        other = httpx.post(f"{base}/api/v1/chat/sessions", json={"email": "b@example.org"})
        answered_in = time.monotonic() - began
        for p in polls:
            p.join(timeout=30)
        assert other.status_code == 201
        assert answered_in < 2.0, f"a new chat waited {answered_in:.1f} s behind the long polls"
        assert len(answers) == 60
        assert all(status == 200 for status, _ in answers)
        assert min(took for _, took in answers) >= 3.5
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        store.close()
