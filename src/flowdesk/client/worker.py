"""The worker: long-polls fetch-and-lock for its topics, runs the handler of each task, and
reports the outcome. A handler returns variables (or None) to complete the task, raises
BpmnError for a business error the model catches, or raises anything else to fail it: the task
is then retried after a backoff until its retries run out and it becomes an incident.
Long-running handlers keep their lock: a background timer extends it while they run."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

log = logging.getLogger("flowdesk.client")


class BpmnError(Exception):
    """Raise from a handler to throw a BPMN error (caught by an error boundary event)."""

    def __init__(
        self, code: str, message: str | None = None, variables: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message or code)
        self.code = code
        self.message = message or code
        self.variables = dict(variables or {})


@dataclass(frozen=True, slots=True)
class ExternalTask:
    id: str
    topic: str
    process_instance_id: str
    activity_id: str
    business_key: str | None
    retries: int | None
    variables: dict[str, Any]


Handler = Callable[[dict[str, Any], ExternalTask], Mapping[str, Any] | None]


@dataclass(frozen=True, slots=True)
class _Topic:
    handler: Handler
    lock_ms: int
    retries: int
    retry_timeout_ms: int


class Worker:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        worker_id: str | None = None,
        max_tasks: int = 10,
        long_poll_ms: int = 20_000,
        http: httpx.Client | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.worker_id = worker_id or f"{socket.gethostname()}-{threading.get_ident()}"
        self.max_tasks = max_tasks
        self.long_poll_ms = long_poll_ms
        self.http = http or httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1/external-tasks",
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout_s + long_poll_ms / 1000,
        )
        self._topics: dict[str, _Topic] = {}
        self._stop = threading.Event()

    def topic(
        self,
        name: str,
        *,
        lock_ms: int = 60_000,
        retries: int = 3,
        retry_timeout_ms: int = 10_000,
    ) -> Callable[[Handler], Handler]:
        """Register the decorated function as the handler of a topic. `retries` is how many
        times a failing task is offered again on its first failure; each retry waits twice as
        long as the one before (starting at `retry_timeout_ms`)."""

        def register(handler: Handler) -> Handler:
            self._topics[name] = _Topic(handler, lock_ms, retries, retry_timeout_ms)
            return handler

        return register

    # -- polling ---------------------------------------------------------------------------------
    def fetch(self, long_poll_ms: int | None = None) -> list[ExternalTask]:
        body = {
            "workerId": self.worker_id,
            "maxTasks": self.max_tasks,
            "asyncResponseTimeout": self.long_poll_ms if long_poll_ms is None else long_poll_ms,
            "topics": [
                {"topicName": name, "lockDuration": spec.lock_ms}
                for name, spec in self._topics.items()
            ],
        }
        response = self.http.post("/fetch-and-lock", json=body)
        response.raise_for_status()
        return [
            ExternalTask(
                id=t["id"],
                topic=t["topicName"],
                process_instance_id=t["processInstanceId"],
                activity_id=t["activityId"],
                business_key=t.get("businessKey"),
                retries=t.get("retries"),
                variables=t.get("variables") or {},
            )
            for t in response.json()
        ]

    def run_once(self, long_poll_ms: int | None = None) -> int:
        """Fetch one batch and handle it; returns the number of tasks handled."""
        if not self._topics:
            raise RuntimeError("no topics registered: use @worker.topic('name')")
        tasks = self.fetch(long_poll_ms)
        for task in tasks:
            self.handle(task)
        return len(tasks)

    def run(self) -> None:
        """Poll until `stop()` is called (from a signal handler or another thread)."""
        backoff = 1.0
        while not self._stop.is_set():
            try:
                self.run_once()
                backoff = 1.0
            except httpx.HTTPError as exc:
                log.warning("fetch-and-lock failed (%s); retrying in %.0fs", exc, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 60.0)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.http.close()

    # -- one task --------------------------------------------------------------------------------
    def handle(self, task: ExternalTask) -> None:
        spec = self._topics[task.topic]
        keeper = _LockKeeper(self, task.id, spec.lock_ms)
        keeper.start()
        try:
            result = spec.handler(dict(task.variables), task)
        except BpmnError as error:
            keeper.stop()
            self._post(
                f"/{task.id}/bpmn-error",
                {
                    "workerId": self.worker_id,
                    "errorCode": error.code,
                    "errorMessage": error.message,
                    "variables": error.variables,
                },
            )
            return
        except Exception as exc:
            keeper.stop()
            left = spec.retries if task.retries is None else max(task.retries - 1, 0)
            attempt = max(spec.retries - left, 1)
            self._post(
                f"/{task.id}/failure",
                {
                    "workerId": self.worker_id,
                    "errorMessage": f"{type(exc).__name__}: {exc}"[:4000],
                    "retries": left,
                    "retryTimeout": spec.retry_timeout_ms * 2 ** (attempt - 1),
                },
            )
            return
        keeper.stop()
        self._post(
            f"/{task.id}/complete",
            {"workerId": self.worker_id, "variables": dict(result or {})},
        )

    def extend_lock(self, task_id: str, duration_ms: int) -> None:
        self._post(
            f"/{task_id}/extend-lock", {"workerId": self.worker_id, "newDuration": duration_ms}
        )

    def _post(self, path: str, body: dict[str, Any], attempts: int = 3) -> None:
        """Report an outcome; transport errors are retried (the server's answer is final)."""
        for attempt in range(attempts):
            try:
                response = self.http.post(path, json=body)
            except httpx.TransportError:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.2 * 2**attempt)
                continue
            if response.status_code >= 400:
                log.warning("%s answered %s: %s", path, response.status_code, response.text)
            return


class _LockKeeper:
    """Extends a task's lock at half its duration while the handler runs."""

    def __init__(self, worker: Worker, task_id: str, lock_ms: int) -> None:
        self.worker = worker
        self.task_id = task_id
        self.lock_ms = lock_ms
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._done.wait(self.lock_ms / 2000):
            try:
                self.worker.extend_lock(self.task_id, self.lock_ms)
            except httpx.HTTPError as exc:
                log.warning("could not extend the lock of %s: %s", self.task_id, exc)

    def stop(self) -> None:
        self._done.set()
        self._thread.join(timeout=5)
