"""Fault injection: `flowdesk serve` killed (SIGKILL) at each named crash point, on SQLite and
PostgreSQL, then started again; the client retries as a client would. Nothing acknowledged or
committed is lost, nothing is done twice: a retried start with its Idempotency-Key gives one
instance (and the first answer where the first request committed), a contact stored raw by a
process that died is handled by the next one's worker rounds."""

from __future__ import annotations

import os
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
from flowdesk.store.crashpoints import ENV, POINTS
from flowdesk.testing.postgres import free_port

#: Points an Idempotency-Key request passes, and whether its effect was committed there.
REQUEST_POINTS = {
    "after-reservation": False,
    "after-effect": False,
    "mid-commit": False,
    "before-answer": True,
}


@contextmanager
def server(url: str, folder: Path, **env: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_")}
    environ.update({"FLOWDESK_WEBHOOK_INTERVAL": "0", "FLOWDESK_LOAD_DEMO": "false", **env})
    flowdesk = Path(sys.executable).with_name("flowdesk")
    command = [str(flowdesk), "serve", "--no-demo", "--port", str(port), "--database-url", url]
    proc = subprocess.Popen(
        command, cwd=folder, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=30)


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
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'flowdesk.db'}"
        if backend == "sqlite"
        else str(request.getfixturevalue("pg_url"))
    )
    headers = _prepare(url)
    assert set(REQUEST_POINTS) | {"after-raw-store"} == set(POINTS)
    off = {"FLOWDESK_EMBEDDED_WORKER": "false"}
    for point in REQUEST_POINTS:
        with server(url, tmp_path, **{ENV: point}, **off) as (base, proc):
            with pytest.raises(httpx.TransportError):
                _start(base, headers, point)
            assert proc.wait(timeout=30) == -9, point  # killed where the point is
    with server(url, tmp_path, **{ENV: "after-raw-store"}, **off) as (base, proc):
        with pytest.raises(httpx.TransportError):
            httpx.post(f"{base}/api/v1/contacts", json=CONTACT, headers=headers, timeout=30)
        assert proc.wait(timeout=30) == -9

    store = Store.open(url)
    try:
        assert _contact_states(store) == ["received"]  # stored raw, never handled
        with server(url, tmp_path, FLOWDESK_CONTACT_LEASE_SECONDS="0.2") as (base, _):
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
