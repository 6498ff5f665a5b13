"""The HTTP connector worker: serves connector tasks as an external-task worker inside Flowdesk.

A connector task waits as an external task (topic `http-connector` or `io.camunda:http-json:1`),
so the call happens outside any transaction and the job machinery already there does the rest:
`tick` fetches and locks due tasks, builds each request from the task's variables
(flowdesk.connectors.request), checks the address against the webhook SSRF policy
(FLOWDESK_WEBHOOK_ALLOWED_NETWORKS) and connects to the address it checked, then completes the
task with the mapped result. A failed attempt (timeout, refused, 5xx) gives the task back with
one retry fewer and a backoff that doubles; after the last retry the task is an incident, shown
on the process instance and retried through its retry route. A request the model cannot make
(no url, a private address, a missing secret, a mapping that fails) is an incident at once.
Secret values are masked out of every message that is stored or logged.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx

from flowdesk.bpmn import timers
from flowdesk.bpmn.model import TaskSpec
from flowdesk.connectors.request import (
    CAMUNDA_HTTP,
    TOPICS,
    ConnectorFailure,
    ConnectorInputError,
    HttpRequest,
    HttpResponse,
    build_request,
    map_result,
)
from flowdesk.connectors.secrets import MissingSecret, Secrets, mask
from flowdesk.engine.expressions import FeelLanguage
from flowdesk.logs import get_logger
from flowdesk.runtime.processes import ExternalTask, ProcessRuntime
from flowdesk.settings import Settings
from flowdesk.webhooks.ssrf import Guard, UnsafeUrl

#: Bodies above this are refused rather than written into process variables.
MAX_RESPONSE_BYTES = 1024 * 1024
DEFAULT_RETRIES = 3
log = get_logger("flowdesk.connectors")


class HttpConnectorWorker:
    def __init__(
        self,
        runtime: ProcessRuntime,
        settings: Settings,
        *,
        worker_id: str = "flowdesk-connectors",
        batch: int = 10,
        http: httpx.Client | None = None,
        guard: Guard | None = None,
        secrets: Secrets | None = None,
    ) -> None:
        self.runtime = runtime
        self.worker_id = worker_id
        self.batch = batch
        self.timeout_s = settings.connector_timeout_s
        self.backoff = timedelta(seconds=settings.connector_backoff_s)
        self.http = http or httpx.Client(follow_redirects=False)
        self.guard = guard or Guard(subject="connector")
        self.secrets = secrets or Secrets(
            {k: v.get_secret_value() for k, v in settings.secrets.items()}
        )
        self.feel = FeelLanguage(runtime.clock)

    def close(self) -> None:
        self.http.close()

    def tick(self) -> int:
        """Run the connector tasks that are due; returns how many were attempted."""
        if not self.runtime.external_due(TOPICS):
            return 0  # the usual case: a read, no write transaction every round
        tasks = self.runtime.fetch_and_lock(
            self.worker_id,
            TOPICS,
            max_tasks=self.batch,
            # long enough for the slowest allowed attempt (connect + read, 300 s each)
            lock_duration=timedelta(seconds=2 * 300 + 30),
        )
        for task in tasks:
            self.run(task)
        return len(tasks)

    def _spec(self, task: ExternalTask) -> TaskSpec:
        if task.definition_id is None:
            return TaskSpec()
        node = self.runtime.registry.get(task.definition_id).nodes.get(task.element_id)
        return node.task if node is not None and node.task is not None else TaskSpec()

    def run(self, task: ExternalTask) -> None:
        spec = self._spec(task)
        dialect = CAMUNDA_HTTP if spec.connector is not None else task.topic
        used: set[str] = set()
        started = time.perf_counter()
        try:
            request = build_request(
                dialect, task.variables, self.secrets, used, timeout_s=self.timeout_s
            )
            response = self._send(request)
            variables = map_result(dialect, spec, task.variables, response, self.feel)
        except (ConnectorInputError, MissingSecret, UnsafeUrl) as exc:
            self._fail(task, spec, mask(_message(exc), used), final=True)
            return
        except ConnectorFailure as exc:
            self._fail(task, spec, mask(_message(exc), used), final=False)
            return
        except Exception as exc:  # anything else: counted as a failed attempt, never lost
            text = f"{type(exc).__name__}: {exc}"
            self._fail(task, spec, mask(text, used), final=False)
            return
        log.info(
            "connector call",
            task=task.id,
            element=task.element_id,
            method=request.method,
            url=mask(request.url, used),
            status=response.status,
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
        self.runtime.complete_external_task(task.id, self.worker_id, variables)

    def _send(self, request: HttpRequest) -> HttpResponse:
        target = self.guard.check(request.url)
        headers = {**request.headers, "Host": target.host}
        timeout = httpx.Timeout(request.read_timeout_s, connect=request.connect_timeout_s)
        try:
            with self.http.stream(
                request.method,
                target.url,
                headers=headers,
                params=request.params or None,
                content=request.body,
                timeout=timeout,
                extensions={"sni_hostname": target.server_name},
            ) as answer:
                content = bytearray()
                for chunk in answer.iter_bytes():
                    content.extend(chunk)
                    if len(content) > MAX_RESPONSE_BYTES:
                        raise ConnectorInputError(
                            f"the response is larger than {MAX_RESPONSE_BYTES} bytes"
                        )
        except httpx.TimeoutException:
            raise ConnectorFailure(
                f"{request.method} {request.url} timed out "
                f"(connect {request.connect_timeout_s:g} s, read {request.read_timeout_s:g} s)"
            ) from None
        except httpx.HTTPError as exc:
            raise ConnectorFailure(
                f"{request.method} {request.url} failed: {type(exc).__name__}: {exc}"
            ) from None
        return HttpResponse(
            answer.status_code,
            {k: v for k, v in answer.headers.items()},
            _body(bytes(content), answer.headers.get("content-type", "")),
        )

    def _fail(self, task: ExternalTask, spec: TaskSpec, message: str, *, final: bool) -> None:
        """Give the task back with one retry fewer (none when retrying cannot help); with no
        retries left the engine raises the incident."""
        total = spec.retries if spec.retries is not None else DEFAULT_RETRIES
        left = 0 if final else max((task.retries if task.retries is not None else total) - 1, 0)
        attempt = max(total - left, 1)
        wait = self._backoff(spec) * (2 ** (attempt - 1))
        log.warning(
            "connector call failed",
            task=task.id,
            element=task.element_id,
            error=message,
            retries_left=left,
            retry_in_s=wait.total_seconds() if left else None,
        )
        self.runtime.fail_external_task(
            task.id, self.worker_id, message, retries=left, retry_timeout=wait
        )

    def _backoff(self, spec: TaskSpec) -> timedelta:
        """The first wait: the Zeebe connector task header retryBackoff (ISO 8601) where the
        model sets one, else FLOWDESK_CONNECTOR_BACKOFF_S."""
        text = dict(spec.headers).get("retryBackoff", "").strip()
        if text:
            try:
                return timers.parse_duration(text).delta
            except ValueError:
                log.warning("retryBackoff is not an ISO 8601 duration", value=text)
        return self.backoff


def _message(exc: Exception) -> str:
    return str(exc)  # with the hint: the incident says what to change


def _body(content: bytes, content_type: str) -> Any:
    text = content.decode("utf-8", errors="replace")
    if "json" in content_type.lower() and text.strip():
        try:
            return json.loads(text, parse_float=Decimal)
        except ValueError:
            return text
    return text
