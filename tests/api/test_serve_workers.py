"""`flowdesk serve --workers 2`: two server processes answer on one port, and what must happen
once still happens once: the embedded worker round fires a timer, and webhook delivery, which
runs in every worker, sends each event one time."""

from __future__ import annotations

import os
import socket
import subprocess
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


def _children_of(port: int) -> list[str]:
    parent = next(
        pid
        for pid in filter(str.isdigit, os.listdir("/proc"))
        if (lambda c: b"serve" in c and str(port).encode() in c)(_cmdline(pid))
    )
    return [
        pid
        for pid in filter(str.isdigit, os.listdir("/proc"))
        if _stat(pid)[1:2] == [parent] and b"spawn_main" in _cmdline(pid)
    ]


def _cmdline(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _stat(pid: str) -> list[str]:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def _socket_inodes(pid: str) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:"):
            found.add(target)
    return found


def _sockets(pid: str) -> int:
    return len(_socket_inodes(pid))


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="counts sockets in /proc")
def test_a_burst_of_connections_is_spread_over_the_workers(tmp_path: Path) -> None:
    """Each worker listens on its own SO_REUSEPORT socket, so the kernel spreads connections;
    with one shared socket, a burst of keep-alive connections tends to land on one worker."""
    url, _key = store_with_admin(tmp_path)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_")}
    env.update({"FLOWDESK_DATABASE_URL": url, "FLOWDESK_EMBEDDED_WORKER": "false"})
    command = [str(Path(sys.executable).with_name("flowdesk")), "serve", "--no-demo"]
    with running(
        [*command, "--workers", "2", "--port", str(port)], f"http://127.0.0.1:{port}", env=env
    ):
        deadline = time.monotonic() + 30
        while True:  # both workers are listening (a socket each) before the burst
            children = _children_of(port)
            if len(children) == 2 and all(_sockets(pid) >= 1 for pid in children):
                break
            assert time.monotonic() < deadline, "the two workers did not start listening"
            time.sleep(0.2)
        # Its own listening socket each (one shared socket has one inode in both).
        first, second = (_socket_inodes(pid) for pid in children)
        assert not first & second
        before = {pid: _sockets(pid) for pid in children}
        burst = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
        try:
            for conn in burst:
                conn.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
            for conn in burst:
                conn.settimeout(10)
                assert conn.recv(64).startswith(b"HTTP/1.1 200")
            gained = {pid: _sockets(pid) - before[pid] for pid in children}
        finally:
            for conn in burst:
                conn.close()
    assert sum(gained.values()) == 32
    # Binomial(32, 1/2): a share under 6 has odds of about 1 in 10,000.
    assert min(gained.values()) >= 6, gained


def test_a_port_in_use_is_refused_with_a_message(tmp_path: Path) -> None:
    url, _key = store_with_admin(tmp_path)
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_")}
    env.update({"FLOWDESK_DATABASE_URL": url, "FLOWDESK_EMBEDDED_WORKER": "false"})
    flowdesk = str(Path(sys.executable).with_name("flowdesk"))
    try:
        done = subprocess.run(
            [flowdesk, "serve", "--no-demo", "--workers", "2", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        taken.close()
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "--port" in done.stderr


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds processes in /proc")
def test_a_worker_that_dies_is_replaced(tmp_path: Path) -> None:
    import signal

    url, _key = store_with_admin(tmp_path)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_")}
    env.update({"FLOWDESK_DATABASE_URL": url, "FLOWDESK_EMBEDDED_WORKER": "false"})
    command = [str(Path(sys.executable).with_name("flowdesk")), "serve", "--no-demo"]
    base = f"http://127.0.0.1:{port}"
    with running([*command, "--workers", "2", "--port", str(port)], base, env=env):
        deadline = time.monotonic() + 30
        while len(children := _children_of(port)) != 2:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        victim = children[0]
        os.kill(int(victim), signal.SIGKILL)
        while True:
            now = _children_of(port)
            if len(now) == 2 and victim not in now:
                break
            assert time.monotonic() < deadline, f"no replacement for {victim}: {now}"
            time.sleep(0.2)
        for _ in range(10):  # both serve again
            with httpx.Client(base_url=base) as fresh:
                assert fresh.get("/health").status_code == 200


def test_concurrent_clients_of_two_workers_all_start_and_complete(tmp_path: Path) -> None:
    """Many clients at once against `serve --workers 2` on SQLite: the processes take turns at
    the write lock and the commands of simultaneous requests share commits (group commit);
    every start and every completion is answered and took effect exactly once."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import func, select

    from flowdesk.engine.testing import wrap
    from flowdesk.store import Store
    from flowdesk.store.process_tables import process_instances

    task = wrap(
        """
        <bpmn:startEvent id="s"/>
        <bpmn:userTask id="t"/>
        <bpmn:endEvent id="e"/>
        <bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="t"/>
        <bpmn:sequenceFlow id="f1" sourceRef="t" targetRef="e"/>
        """,
        process_id="task",
    )
    url, key = store_with_admin(tmp_path)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_")}
    env.update({"FLOWDESK_DATABASE_URL": url, "FLOWDESK_EMBEDDED_WORKER": "false"})
    command = [str(Path(sys.executable).with_name("flowdesk")), "serve", "--no-demo"]
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {key}"}
    with running([*command, "--workers", "2", "--port", str(port)], base, env=env):
        with httpx.Client(base_url=base, headers=headers) as http:
            files = [("files", ("task.bpmn", task.encode(), "application/xml"))]
            assert http.post("/api/v1/deployments", files=files).status_code == 201

        def client(_: int) -> list[str]:
            done = []
            with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
                for _ in range(10):
                    started = http.post("/api/v1/process-instances", json={"processKey": "task"})
                    assert started.status_code == 201, started.text
                    item = started.json()["work_items"][0]["id"]
                    completed = http.post(f"/api/v1/work-items/{item}/complete", json={})
                    assert completed.status_code == 200, completed.text
                    assert completed.json()["instance_status"] == "completed"
                    done.append(started.json()["id"])
            return done

        with ThreadPoolExecutor(12) as pool:
            ids = [i for batch in pool.map(client, range(12)) for i in batch]
    assert len(set(ids)) == 120
    store = Store.open(url)
    try:
        with store.reading() as conn:
            counts = dict(
                conn.execute(
                    select(process_instances.c.status, func.count()).group_by(
                        process_instances.c.status
                    )
                ).all()
            )
        assert counts == {"completed": 120}
        ended = [e for e in store.events.after(0, limit=100_000) if e.type == "process.completed"]
        assert len(ended) == 120
    finally:
        store.close()
