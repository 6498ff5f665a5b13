"""`flowdesk serve --workers 2`: two server processes answer on one port, and what must happen
once still happens once: the embedded worker round fires a timer, and webhook delivery, which
runs in every worker, sends each event one time."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from tests.cli.test_serve_worker import TIMER, store_with_admin
from tests.web.servers import running

from flowdesk.testing.postgres import free_port
from flowdesk.webhooks.ssrf import ALLOW_ENV


@contextmanager
def _receiver() -> Iterator[tuple[str, list[str]]]:
    """A local webhook receiver; yields its URL and the event ids it was sent, in order."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(self.headers["X-Flowdesk-Event-Id"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", seen
    finally:
        server.shutdown()


def _spawned_children(port: int) -> int:
    """How many multiprocessing children the server listening on `port` has (Linux /proc)."""
    parent = None
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in cmdline and str(port).encode() in cmdline:
            parent = pid
    assert parent is not None, "the server process was not found"
    children = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        children += stat[1] == parent and b"spawn_main" in command
    return children


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="counts processes in /proc")
def test_two_workers_serve_and_background_work_runs_once(tmp_path: Path) -> None:
    url, key = store_with_admin(tmp_path)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_")}
    env.update(
        {"FLOWDESK_DATABASE_URL": url, "FLOWDESK_WEBHOOK_INTERVAL": "0.2", ALLOW_ENV: "127.0.0.0/8"}
    )
    command = [str(Path(sys.executable).with_name("flowdesk")), "serve", "--no-demo"]
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {key}"}
    with (
        _receiver() as (hook_url, seen),
        running([*command, "--workers", "2", "--port", str(port)], base, env=env, cwd=tmp_path),
    ):
        assert _spawned_children(port) == 2
        with httpx.Client(base_url=base, headers=headers) as http:
            hook = http.post("/api/v1/webhooks", json={"url": hook_url, "eventTypes": ["*"]})
            assert hook.status_code == 201, hook.text
            files = [("files", ("nap.bpmn", TIMER.encode(), "application/xml"))]
            assert http.post("/api/v1/deployments", files=files).status_code == 201
            # Several starts over new connections, so both workers are likely to take some.
            ids = []
            for _ in range(6):
                with httpx.Client(base_url=base, headers=headers) as fresh:
                    started = fresh.post("/api/v1/process-instances", json={"processKey": "nap"})
                assert started.status_code == 201, started.text
                ids.append(started.json()["id"])
            deadline = time.monotonic() + 20
            statuses = {"active"}
            while time.monotonic() < deadline and "active" in statuses:
                time.sleep(0.5)
                statuses = {
                    http.get(f"/api/v1/process-instances/{i}").json()["status"] for i in ids
                }
            assert statuses == {"completed"}  # the timer fired: the worker round ran
            history = http.get(f"/api/v1/process-instances/{ids[-1]}/history").json()
            wanted = {e["id"] for e in history}
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and not wanted <= set(seen):
                time.sleep(0.3)
            time.sleep(1.0)  # time for a second copy, were one to be sent
    assert wanted <= set(seen)
    assert len(seen) == len(set(seen)), "an event was delivered twice"
