"""The HTTP connector end to end: models from Camunda Modeler (tests/data/bpmn) deployed and
started over the REST API call a real HTTP server on 127.0.0.1; the connector worker (as the
worker rounds run it) maps the answer into variables, retries failures with backoff into an
incident that the API shows and retries, keeps secrets out of the store, and refuses private
addresses unless FLOWDESK_WEBHOOK_ALLOWED_NETWORKS allows them."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.api.test_service_api import Api, make_api

from flowdesk.bpmn.parser import parse_bpmn
from flowdesk.cli.rounds import WorkerRounds
from flowdesk.connectors.http import HttpConnectorWorker
from flowdesk.connectors.request import CAMUNDA_HTTP, ZEEBE_HTTP
from flowdesk.core.clock import FixedClock
from flowdesk.runtime.processes import ProcessRuntime
from flowdesk.settings import Settings
from flowdesk.store import Store
from flowdesk.webhooks.ssrf import ALLOW_ENV

DATA = Path(__file__).parents[1] / "data" / "bpmn"
CRM_MODEL = (DATA / "crm_lookup_connector.bpmn").read_text()
ORDER_MODEL = (DATA / "order_status_rest.bpmn").read_text()
CRM_TOKEN = "crm-s3cret-token-4711"
ORDERS_TOKEN = "orders-s3cret-token-0815"


@dataclass
class Backoffice:
    """A CRM and an order system on 127.0.0.1 that record what they were sent."""

    base: str = ""
    seen: list[dict[str, Any]] = field(default_factory=list)
    failing: bool = True  # customer / order "boom" answers 500 while this is set


def _handler(office: Backoffice) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            office.seen.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers.items()),
                    "body": body,
                }
            )
            key = self.path.split("?")[0].rsplit("/", 1)[-1]
            if key == "boom" and office.failing:
                self._answer(500, {"error": "database down"})
            elif key == "slow":
                time.sleep(2.5)
                self._answer(200, {"status": "late"})
            elif self.path.startswith("/customers/"):
                self._answer(200, {"id": key, "name": "Ada Lovelace", "tier": "gold"})
            else:
                self._answer(200, {"id": key, "status": "shipped", "carrier": "DHL"})

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def office() -> Iterator[Backoffice]:
    office = Backoffice()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(office))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    office.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield office
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def api(sqlite_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setenv("FLOWDESK_WEBHOOK_INTERVAL", "0")
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.0/8")  # the test servers are local
    monkeypatch.setenv("FLOWDESK_SECRET_ORDERS_TOKEN", ORDERS_TOKEN)
    store = Store.open(sqlite_url)
    store.upgrade()
    try:
        yield from make_api(store, clock, sqlite_url)
    finally:
        store.close()


def _worker(api: Api, **settings: Any) -> HttpConnectorWorker:
    """The connector worker the worker rounds run, on the test's clock."""
    config = Settings(database_url="sqlite://", secrets={"CRM_TOKEN": CRM_TOKEN}, **settings)  # type: ignore[arg-type]
    return HttpConnectorWorker(ProcessRuntime(api.store, clock=api.clock), config)


def _deploy(api: Api, name: str, xml: str) -> None:
    response = api.deploy((name, xml))
    assert response.status_code == 201, response.text


def _instance(api: Api, instance_id: str) -> dict[str, Any]:
    response = api.client.get(f"/api/v1/process-instances/{instance_id}", headers=api.as_("admin"))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _stored_bytes(sqlite_url: str) -> bytes:
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_modeler_files_parse_into_connector_definitions() -> None:
    """parse_bpmn validates too: both files load unchanged, with no error."""
    crm = parse_bpmn(CRM_MODEL.encode(), filename="crm_lookup_connector.bpmn")
    spec = crm.process().nodes["fetch_customer"].task
    assert spec is not None and spec.connector is not None
    assert spec.connector.id == CAMUNDA_HTTP
    inputs = {m.target: m.source for m in spec.connector.inputs}
    assert inputs["url"] == '(string(crmBase) + "/customers/" + string(customerId))'
    assert '"Authorization": "Bearer {{secrets.CRM_TOKEN}}"' in inputs["headers"]
    outputs = [m.target for m in spec.connector.outputs]
    assert outputs == ["customerName", "customerTier", "crmStatus"]
    order = parse_bpmn(ORDER_MODEL.encode(), filename="order_status_rest.bpmn")
    task = order.process().nodes["get_order"]
    assert task.task is not None and task.task.topic == ZEEBE_HTTP
    assert dict(task.task.headers)["resultVariable"] == "orderResponse"
    assert {m.target for m in task.inputs} >= {"url", "authentication.type", "queryParameters"}
    # the frozen definition round-trips through JSON with the connector in it
    again = type(crm).from_dict(json.loads(json.dumps(crm.to_dict())))
    assert again.process().nodes["fetch_customer"].task == spec


def test_camunda_connector_calls_the_server_and_maps_the_answer(
    api: Api, office: Backoffice, sqlite_url: str
) -> None:
    _deploy(api, "crm_lookup_connector.bpmn", CRM_MODEL)
    started = api.start(
        "crm_lookup", {"crmBase": office.base, "customerId": "C-42", "caseRef": "FD-7"}
    )
    assert started["status"] == "active" and office.seen == []  # the call is the worker's job
    assert _worker(api).tick() == 1
    (call,) = office.seen
    assert call["method"] == "POST" and call["path"] == "/customers/C-42"
    assert call["headers"]["Authorization"] == f"Bearer {CRM_TOKEN}"
    assert call["headers"]["X-Case"] == "FD-7"
    assert json.loads(call["body"]) == {"customerId": "C-42", "channel": "email"}
    state = _instance(api, started["id"])
    assert state["variables"]["customerName"] == "Ada Lovelace"
    assert state["variables"]["customerTier"] == "gold"
    assert state["variables"]["crmStatus"] == 200
    assert "url" not in state["variables"]  # connector inputs were the task's own
    assert [w["element_id"] for w in state["work_items"]] == ["greet"]
    # the secret reached the server, but nothing Flowdesk stored holds it
    history = api.client.get(
        f"/api/v1/process-instances/{started['id']}/history", headers=api.as_("admin")
    )
    assert CRM_TOKEN not in history.text and "{{secrets.CRM_TOKEN}}" not in history.text
    stored = _stored_bytes(sqlite_url)
    assert b"Ada Lovelace" in stored  # the scan sees what was stored ...
    assert CRM_TOKEN.encode() not in stored  # ... and the secret is not among it


def test_zeebe_rest_connector_sets_result_variable_and_expression(
    api: Api, office: Backoffice, sqlite_url: str
) -> None:
    _deploy(api, "order_status_rest.bpmn", ORDER_MODEL)
    started = api.start("order_status", {"baseUrl": office.base, "orderId": "O-9"})
    assert _worker(api).tick() == 1
    (call,) = office.seen
    assert call["method"] == "GET" and call["path"] == "/orders/O-9?verbose=yes"
    assert call["headers"]["Authorization"] == f"Bearer {ORDERS_TOKEN}"
    assert call["headers"]["X-Order"] == "O-9"
    variables = _instance(api, started["id"])["variables"]
    assert variables["orderStatus"] == "shipped" and variables["carrier"] == "DHL"
    response = variables["orderResponse"]
    assert response["status"] == 200 and response["body"]["id"] == "O-9"
    assert response["headers"]["content-type"] == "application/json"
    assert "authentication.token" not in variables
    assert ORDERS_TOKEN.encode() not in _stored_bytes(sqlite_url)


def test_server_errors_back_off_then_raise_an_incident_the_api_retries(
    api: Api, office: Backoffice
) -> None:
    _deploy(api, "crm_lookup_connector.bpmn", CRM_MODEL)
    started = api.start(
        "crm_lookup", {"crmBase": office.base, "customerId": "boom", "caseRef": "FD-8"}
    )
    worker = _worker(api, connector_backoff_s=30)
    assert worker.tick() == 1  # attempt 1: 500
    assert worker.tick() == 0  # backing off (30 s)
    api.clock.advance(timedelta(seconds=31))
    assert worker.tick() == 1  # attempt 2: 500, next wait 60 s
    api.clock.advance(timedelta(seconds=31))
    assert worker.tick() == 0
    api.clock.advance(timedelta(seconds=30))
    assert worker.tick() == 1  # attempt 3 of 3: the incident
    assert len(office.seen) == 3
    state = _instance(api, started["id"])
    (incident,) = state["incidents"]
    assert incident["element_id"] == "fetch_customer"
    assert "HTTP 500" in incident["message"]
    assert CRM_TOKEN not in json.dumps(state)
    api.clock.advance(timedelta(hours=1))
    assert worker.tick() == 0  # an incident waits for a person
    office.failing = False
    retried = api.client.post(
        f"/api/v1/process-instances/{started['id']}/incidents/{incident['id']}/retry",
        json={"retries": 2},
        headers=api.as_("admin"),
    )
    assert retried.status_code == 200, retried.text
    assert worker.tick() == 1
    state = _instance(api, started["id"])
    assert state["incidents"] == [] and state["variables"]["customerName"] == "Ada Lovelace"


def test_a_timeout_is_retried_and_named_in_the_incident(api: Api, office: Backoffice) -> None:
    _deploy(api, "order_status_rest.bpmn", ORDER_MODEL.replace('retries="3"', 'retries="2"'))
    started = api.start("order_status", {"baseUrl": office.base, "orderId": "slow"})
    worker = _worker(api)
    began = time.monotonic()
    assert worker.tick() == 1  # read timeout 1 s; retryBackoff PT0S: due again at once
    assert worker.tick() == 1
    assert time.monotonic() - began < 4.5  # two 1 s timeouts, not two 2.5 s answers
    (incident,) = _instance(api, started["id"])["incidents"]
    assert "timed out" in incident["message"] and "read 1 s" in incident["message"]


def test_private_addresses_are_refused_unless_allowed(
    api: Api, office: Backoffice, monkeypatch: pytest.MonkeyPatch
) -> None:
    _deploy(api, "crm_lookup_connector.bpmn", CRM_MODEL)
    metadata = api.start(
        "crm_lookup",
        {"crmBase": "http://169.254.169.254/latest", "customerId": "x", "caseRef": "m"},
    )
    monkeypatch.delenv(ALLOW_ENV)
    local = api.start(
        "crm_lookup", {"crmBase": office.base, "customerId": "C-1", "caseRef": "FD-9"}
    )
    worker = _worker(api)  # built with no allow-list
    assert worker.tick() == 2
    assert office.seen == []  # nothing left the building
    (refused,) = _instance(api, metadata["id"])["incidents"]
    assert "cloud metadata address" in refused["message"]
    (incident,) = _instance(api, local["id"])["incidents"]
    assert "loopback address" in incident["message"] and ALLOW_ENV in incident["message"]
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.0/8")
    allowed = _worker(api)
    retried = api.client.post(
        f"/api/v1/process-instances/{local['id']}/incidents/{incident['id']}/retry",
        headers=api.as_("admin"),
    )
    assert retried.status_code == 200, retried.text
    assert allowed.tick() == 1 and len(office.seen) == 1
    assert _instance(api, local["id"])["variables"]["customerName"] == "Ada Lovelace"


def test_a_missing_secret_is_an_incident_naming_the_setting(
    api: Api, office: Backoffice, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FLOWDESK_SECRET_ORDERS_TOKEN")
    _deploy(api, "order_status_rest.bpmn", ORDER_MODEL)
    started = api.start("order_status", {"baseUrl": office.base, "orderId": "O-1"})
    assert _worker(api).tick() == 1
    (incident,) = _instance(api, started["id"])["incidents"]
    assert "secret 'ORDERS_TOKEN' is not configured" in incident["message"]
    assert "FLOWDESK_SECRET_ORDERS_TOKEN" in incident["message"]
    assert office.seen == []


def test_worker_rounds_run_connector_tasks(
    sqlite_url: str, office: Backoffice, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`flowdesk worker` and the server's embedded worker run the same rounds."""
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.0/8")
    monkeypatch.setenv("FLOWDESK_SECRETS", json.dumps({"CRM_TOKEN": CRM_TOKEN}))
    store = Store.open(sqlite_url)
    store.upgrade()
    try:
        runtime = ProcessRuntime(store)
        runtime.deploy("crm", [("crm.bpmn", CRM_MODEL.encode())])
        state = runtime.start(
            "crm_lookup", {"crmBase": office.base, "customerId": "C-5", "caseRef": "r"}
        )
        rounds = WorkerRounds(store, Settings(database_url=sqlite_url), name="t", routing=False)
        assert rounds.tick() >= 1
        assert office.seen[0]["headers"]["Authorization"] == f"Bearer {CRM_TOKEN}"
        assert runtime.instance(state.id).vars["customerName"] == "Ada Lovelace"
    finally:
        store.close()
