"""External tasks as workers in any language work them (Camunda 7's protocol): fetch and lock by
topic, complete, fail with retries, throw a BPMN error, extend the lock. The lock is the
worker's: the runtime refuses (409) a worker that does not hold it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from flowdesk.app.context import Caller, Ops, require
from flowdesk.app.values import feel_variables
from flowdesk.auth.roles import Permission
from flowdesk.engine.state import InstanceState
from flowdesk.runtime.processes import ExternalTask

__all__ = ["ExternalTask", "InstanceState"]


def fetch_and_lock(
    caller: Caller,
    ops: Ops,
    worker_id: str,
    topics: Sequence[tuple[str, timedelta]],
    max_tasks: int,
) -> list[ExternalTask]:
    """Lock up to `max_tasks` tasks of the topics (each with its lock duration) for the worker."""
    require(caller, Permission.EXTERNAL_TASKS)
    by_duration: dict[timedelta, list[str]] = {}
    for name, duration in topics:
        by_duration.setdefault(duration, []).append(name)
    found: list[ExternalTask] = []
    for duration, names in by_duration.items():
        room = max_tasks - len(found)
        if room <= 0:
            break
        found.extend(
            ops.runtime.fetch_and_lock(worker_id, names, max_tasks=room, lock_duration=duration)
        )
    return found


def complete(
    caller: Caller, ops: Ops, task_id: str, worker_id: str, variables: Mapping[str, Any]
) -> InstanceState:
    require(caller, Permission.EXTERNAL_TASKS)
    return ops.runtime.complete_external_task(task_id, worker_id, feel_variables(variables))


def fail(
    caller: Caller,
    ops: Ops,
    task_id: str,
    worker_id: str,
    message: str,
    *,
    retries: int | None,
    retry_timeout: timedelta,
) -> InstanceState:
    """A failure: the task is offered again after `retry_timeout` while retries remain; at 0
    it becomes an incident."""
    require(caller, Permission.EXTERNAL_TASKS)
    return ops.runtime.fail_external_task(
        task_id, worker_id, message, retries=retries, retry_timeout=retry_timeout
    )


def bpmn_error(
    caller: Caller,
    ops: Ops,
    task_id: str,
    worker_id: str,
    code: str,
    message: str | None,
    variables: Mapping[str, Any],
) -> InstanceState:
    """Throw a BPMN error from the task, for an error boundary event in the model to catch."""
    require(caller, Permission.EXTERNAL_TASKS)
    return ops.runtime.external_bpmn_error(
        task_id, worker_id, code, message, feel_variables(variables)
    )


def extend_lock(
    caller: Caller, ops: Ops, task_id: str, worker_id: str, duration: timedelta
) -> datetime:
    """Keep the lock for `duration` from now (a long-running task)."""
    require(caller, Permission.EXTERNAL_TASKS)
    return ops.runtime.extend_lock(task_id, worker_id, duration)
