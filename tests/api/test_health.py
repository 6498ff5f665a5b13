from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from flowdesk.api.app import create_app
from flowdesk.settings import Settings
from flowdesk.store import Store
from flowdesk.testing.postgres import free_port


@pytest.fixture
def client(store: Store, database_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=database_url, max_body_bytes=2048)
    with TestClient(create_app(settings, store)) as c:
        yield c


def test_health_reports_the_database(client: TestClient, store: Store) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == store.dialect
    assert body["event_log_head"] == 0


def test_health_is_503_when_the_database_is_gone(client: TestClient, store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.connection.exec_driver_sql("DROP TABLE events")
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_metrics_count_requests_in_prometheus_format(client: TestClient) -> None:
    client.get("/health")
    client.get("/health")
    text = client.get("/metrics").text
    assert 'flowdesk_http_requests_total{method="GET",route="/health",status="200"} 2.0' in text
    assert "flowdesk_event_log_head 0.0" in text


def test_unknown_route_is_a_problem_document(client: TestClient) -> None:
    response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_oversized_body_is_413_before_reading_it(client: TestClient) -> None:
    response = client.post("/health", content=b"x" * 5000)
    assert response.status_code == 413
    assert "exceeds 2048 bytes" in response.json()["detail"]


def test_openapi_document_lists_operations(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert {"/health", "/metrics"} <= set(spec["paths"])


def test_flowdesk_serve_migrates_and_answers_health(database_url: str) -> None:
    """The way an operator runs it: the real `flowdesk serve` process on a free port."""
    port = free_port()
    env = dict(os.environ, FLOWDESK_DATABASE_URL=database_url)
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowdesk.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError as exc:
                if proc.poll() is not None or time.monotonic() > deadline:
                    # stop it first: reading the pipe of a live server would wait forever
                    proc.kill()
                    output, _ = proc.communicate(timeout=20)
                    raise AssertionError(output or "no output") from exc
                time.sleep(0.2)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}" in output
