"""Against a real `flowdesk serve` (uvicorn) on a free localhost port: the Python worker
client, idempotent starts, work items over HTTP, and webhooks delivered by the server's own
background loop to a local HTTP server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.api.test_service_api import APPROVAL, WAIT
from tests.webhooks.test_delivery import Receiver

from flowdesk.auth import service
from flowdesk.client import BpmnError, Worker
from flowdesk.core.clock import FixedClock
from flowdesk.store import Store
from flowdesk.testing.postgres import free_port
from flowdesk.webhooks.delivery import SIGNATURE_HEADER, verify


@dataclass
class Server:
    url: str
    admin: str
    integration: str

    def client(self, key: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    db = tmp_path_factory.mktemp("served") / "flowdesk.db"
    url = f"sqlite:///{db}"
    store = Store.open(url)
    store.upgrade()
    clock = FixedClock(datetime.now(UTC))
    service.create_user(store, clock, username="root", roles=["admin"])
    service.create_user(store, clock, username="crm", roles=["integration"])
    _, admin = service.create_api_key(store, clock, username="root", name="t")
    _, integration = service.create_api_key(store, clock, username="crm", name="t")
    store.close()
    port = free_port()
    env = dict(
        os.environ,
        FLOWDESK_DATABASE_URL=url,
        FLOWDESK_WEBHOOK_INTERVAL="0.1",
        FLOWDESK_WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",  # the test's receiver
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowdesk.cli.main", "serve", "--port", str(port), "--no-demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=Path(__file__).parent,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{base}/health", timeout=2)
            break
        except httpx.TransportError as exc:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(proc.stdout.read() if proc.stdout else "") from exc
            time.sleep(0.2)
    try:
        yield Server(base, admin, integration)
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


def _deploy(server: Server, name: str, xml: str) -> None:
    with server.client(server.admin) as http:
        response = http.post(
            "/api/v1/deployments", files=[("files", (name, xml.encode(), "application/xml"))]
        )
        assert response.status_code == 201, response.text


def test_worker_completes_fails_and_throws_bpmn_errors(server: Server) -> None:
    _deploy(server, "wait.bpmn", WAIT)
    seen: list[tuple[str, Any]] = []
    worker = Worker(server.url, server.integration, worker_id="py-worker", long_poll_ms=2000)

    @worker.topic("crm-update", retries=2, retry_timeout_ms=0)
    def crm_update(variables: dict[str, Any], task: Any) -> dict[str, Any]:
        seen.append((task.business_key, variables.get("case_ref")))
        if variables["case_ref"] == "NC":
            raise BpmnError("NO_CUSTOMER", "no such customer", {"why": "unknown"})
        if variables["case_ref"] == "FLAKY" and len([r for _, r in seen if r == "FLAKY"]) == 1:
            raise ConnectionError("CRM timed out")
        return {"crm_updated": True, "amount": 12.5}

    with server.client(server.integration) as http:
        ids = {}
        for ref in ("OK", "NC", "FLAKY"):
            r = http.post(
                "/api/v1/process-instances",
                json={"processKey": "wait", "businessKey": ref, "variables": {"case_ref": ref}},
            )
            ids[ref] = r.json()["id"]
        handled = 0
        deadline = time.monotonic() + 20
        while handled < 4 and time.monotonic() < deadline:
            handled += worker.run_once()
        worker.close()
        assert handled == 4  # FLAKY twice: failed once, retried, completed
        ok = http.get(f"/api/v1/process-instances/{ids['OK']}").json()
        assert ok["variables"]["crm_updated"] is True and ok["variables"]["amount"] == 12.5
        assert ok["active_elements"] == ["wait_reply"]
        nc = http.get(f"/api/v1/process-instances/{ids['NC']}").json()
        assert [w["element_id"] for w in nc["work_items"]] == ["fix"] and nc["variables"][
            "why"
        ] == "unknown"
        flaky = http.get(f"/api/v1/process-instances/{ids['FLAKY']}").json()
        assert flaky["active_elements"] == ["wait_reply"] and flaky["incidents"] == []
        history = http.get(f"/api/v1/process-instances/{ids['FLAKY']}/history").json()
        assert any(e["element_id"] == "crm" for e in history)
    assert sorted(ref for _, ref in seen) == ["FLAKY", "FLAKY", "NC", "OK"]


def test_idempotent_start_and_work_item_over_http(server: Server) -> None:
    _deploy(server, "approval.bpmn", APPROVAL)
    with server.client(server.admin) as http:
        body = {"processKey": "approval", "variables": {"amount": 500}, "businessKey": "HTTP-1"}
        headers = {"Idempotency-Key": "http-1"}
        first = http.post("/api/v1/process-instances", json=body, headers=headers)
        second = http.post("/api/v1/process-instances", json=body, headers=headers)
        assert first.status_code == second.status_code == 201
        assert first.json() == second.json()
        assert (
            len(http.get("/api/v1/process-instances", params={"business_key": "HTTP-1"}).json())
            == 1
        )
        item = first.json()["work_items"][0]["id"]
        assert http.post(f"/api/v1/work-items/{item}/claim").json()["assignee"] == "root"
        done = http.post(
            f"/api/v1/work-items/{item}/complete", json={"variables": {"approved": True}}
        )
        assert [w["element_id"] for w in done.json()["next_work_items"]] == ["pay"]
        bad = http.post(
            "/api/v1/process-instances", content=b"{", headers={"content-type": "application/json"}
        )
        assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


def test_server_delivers_webhooks_in_the_background(server: Server) -> None:
    receiver = Receiver()
    secret = "served-secret-0123456789"
    try:
        with server.client(server.admin) as http:
            hook = http.post(
                "/api/v1/webhooks",
                json={"url": receiver.url, "eventTypes": ["process.started"], "secret": secret},
            )
            assert hook.status_code == 201
            started = http.post(
                "/api/v1/process-instances",
                json={"processKey": "approval", "variables": {"amount": 1}},
            ).json()
            deadline = time.monotonic() + 15
            while not receiver.requests and time.monotonic() < deadline:
                time.sleep(0.1)
            assert receiver.requests, "the server's delivery loop sent nothing"
            headers, body = receiver.requests[0]
            assert verify(secret, body, headers[SIGNATURE_HEADER])
            event = receiver.events()[0]
            assert event["type"] == "io.flowdesk.process.started"
            assert event["processinstanceid"] == started["id"]
            time.sleep(0.5)
            log = http.get(f"/api/v1/webhooks/{hook.json()['id']}/deliveries").json()
            assert [d["status"] for d in log] == ["delivered"]
    finally:
        receiver.close()
