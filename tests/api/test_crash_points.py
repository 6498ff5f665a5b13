"""Fault injection: `flowdesk serve` killed (SIGKILL) at each named crash point, on SQLite and
PostgreSQL, then started again; the client retries as a client would. Nothing acknowledged or
committed is lost, nothing is done twice: a retried start with its Idempotency-Key gives one
instance (and the first answer where the first request committed), a contact stored raw by a
process that died is handled by the next one's worker rounds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.api.test_service_api import APPROVAL

from flowdesk.auth import service
from flowdesk.contacts.models import contacts
from flowdesk.core.clock import FixedClock
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.store import Store
from flowdesk.store.crashpoints import POINTS
from flowdesk.testing.postgres import free_port

#: Points an Idempotency-Key request passes, and whether its effect was committed there.
REQUEST_POINTS = {
    "after-reservation": False,
    "after-effect": False,
    "mid-commit": False,
    "before-answer": True,
}


#: A server process that imports Flowdesk once, then forks one `flowdesk serve`-like child per
#: line it reads ("POINT PORT URL WORKER"): each child arms its crash point (the module's
#: switch, as FLOWDESK_CRASH_POINT would at start), opens the store, serves the app with
#: uvicorn and, with WORKER=1, runs the worker rounds in the background as `flowdesk serve`
#: does. Forking saves the seconds of imports that each of six starts per backend would cost.
FORK_SERVER = """
import os, signal, sys
import uvicorn
import flowdesk.store.crashpoints as crashpoints
from flowdesk.api.app import create_app
from flowdesk.cli.rounds import WorkerRounds, start_in_background
from flowdesk.settings import Settings
from flowdesk.store import Store
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
for line in sys.stdin:
    point, port, url, worker = line.split()
    pid = os.fork()
    if pid == 0:
        crashpoints._ARMED = None if point == "-" else point
        settings = Settings(database_url=url, contact_lease_seconds=0.2)
        store = Store.open(url)
        if worker == "1":
            start_in_background(WorkerRounds(store, settings, name="crash"), pause=0.2)
        uvicorn.run(create_app(settings, store), host="127.0.0.1", port=int(port),
                    log_level="warning", proxy_headers=False)
        os._exit(0)
    print(pid, flush=True)
"""


@pytest.fixture(scope="module")
def forks() -> Iterator[subprocess.Popen[str]]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_")}
    environ.update({"FLOWDESK_WEBHOOK_INTERVAL": "0", "FLOWDESK_STRICT_EVENTS": "1"})
    proc = subprocess.Popen(
        [sys.executable, "-c", FORK_SERVER],
        env=environ,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    yield proc
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(timeout=30)


@contextmanager
def server(
    forks: subprocess.Popen[str], url: str, point: str | None, *, worker: bool = False
) -> Iterator[tuple[str, int]]:
    """A server process armed at `point`; yields its base URL and pid; stopped at the end."""
    port = free_port()
    assert forks.stdin is not None and forks.stdout is not None
    forks.stdin.write(f"{point or '-'} {port} {url} {int(worker)}\n")
    forks.stdin.flush()
    pid = int(forks.stdout.readline())
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert _alive(pid) and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        yield base, pid
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGTERM)
            _gone(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _gone(pid: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _prepare(url: str) -> dict[str, str]:
    store = Store.open(url)
    store.upgrade()
    clock = FixedClock(datetime.now(UTC))
    service.create_user(store, clock, username="root", roles=["admin"])
    _, key = service.create_api_key(store, clock, username="root", name="crash")
    ProcessRuntime(store, clock=clock).deploy("crash", [("approval.bpmn", APPROVAL.encode())])
    store.close()
    return {"Authorization": f"Bearer {key}"}


def _start(base: str, headers: dict[str, str], point: str) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/process-instances",
        json={"processKey": "approval", "businessKey": point, "variables": {"amount": 5}},
        headers={**headers, "Idempotency-Key": f"key-{point}"},
        timeout=30,
    )


CONTACT = {"channel": "web", "email": "ann@example.com", "text": "My meter shows nothing"}


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_nothing_lost_or_doubled_at_any_crash_point(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, forks: subprocess.Popen[str]
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'flowdesk.db'}"
        if backend == "sqlite"
        else str(request.getfixturevalue("pg_url"))
    )
    headers = _prepare(url)
    # every crash point is played somewhere: the request's here, the archive's in
    # tests/store/test_event_archive.py
    assert set(REQUEST_POINTS) | {"after-raw-store", "archive-written"} == set(POINTS)
    for point in REQUEST_POINTS:
        with server(forks, url, point) as (base, pid):
            with pytest.raises(httpx.TransportError):
                _start(base, headers, point)
            assert _gone(pid), point  # it killed itself where the point is
    with server(forks, url, "after-raw-store") as (base, pid):
        with pytest.raises(httpx.TransportError):
            httpx.post(f"{base}/api/v1/contacts", json=CONTACT, headers=headers, timeout=30)
        assert _gone(pid)

    store = Store.open(url)
    try:
        assert _contact_states(store) == ["received"]  # stored raw, never handled
        with server(forks, url, None, worker=True) as (base, _):
            for point, committed in REQUEST_POINTS.items():
                retry = _start(base, headers, point)
                assert retry.status_code == 201, (point, retry.text)
                replayed = retry.headers.get("Idempotent-Replayed") == "true"
                assert replayed is committed, point
                again = _start(base, headers, point)  # and once more: the same answer
                assert again.headers.get("Idempotent-Replayed") == "true"
                assert again.json()["id"] == retry.json()["id"]
                found = httpx.get(
                    f"{base}/api/v1/process-instances",
                    params={"business_key": point},
                    headers=headers,
                ).json()
                assert [i["id"] for i in found] == [retry.json()["id"]], point
            deadline = time.monotonic() + 30
            while _contact_states(store) == ["received"] and time.monotonic() < deadline:
                time.sleep(0.2)  # the new server's worker rounds pick it up
            assert _contact_states(store) in (["processed"], ["triage"])
    finally:
        store.close()


def _contact_states(store: Store) -> list[Any]:
    with store.reading() as conn:
        return list(conn.execute(select(contacts.c.status)).scalars())
