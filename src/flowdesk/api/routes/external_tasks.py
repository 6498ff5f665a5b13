"""External tasks as Camunda 7 users know them: fetch-and-lock by topic with long polling,
complete, failure with retries, BPMN error, extend lock. Workers in any language poll these."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from flowdesk.api.routes.common import VariableName, errors, ops_of, plain
from flowdesk.api.security import require
from flowdesk.app import external_tasks as use
from flowdesk.auth.roles import Permission
from flowdesk.auth.service import Principal

router = APIRouter(prefix="/api/v1/external-tasks", tags=["external tasks"])

#: Long polling is capped so a request cannot hold a connection (and a worker slot) for long.
MAX_ASYNC_RESPONSE_MS = 60_000
MAX_LOCK_MS = 24 * 3_600_000

_Camel = ConfigDict(populate_by_name=True, extra="forbid")
WorkerId = Field(alias="workerId", min_length=1, max_length=200)


class TopicIn(BaseModel):
    model_config = _Camel

    topic_name: str = Field(alias="topicName", min_length=1, max_length=200)
    lock_duration: int = Field(
        default=300_000, alias="lockDuration", ge=1, le=MAX_LOCK_MS, description="ms"
    )


class FetchIn(BaseModel):
    model_config = _Camel

    worker_id: str = WorkerId
    topics: list[TopicIn] = Field(min_length=1, max_length=100)
    max_tasks: int = Field(default=10, alias="maxTasks", ge=1, le=1000)
    async_response_timeout: int = Field(
        default=0,
        alias="asyncResponseTimeout",
        ge=0,
        description=f"Long polling: wait up to this many ms for a task (capped at "
        f"{MAX_ASYNC_RESPONSE_MS})",
    )


class LockedTaskOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    topic_name: str = Field(serialization_alias="topicName")
    worker_id: str = Field(serialization_alias="workerId")
    process_instance_id: str = Field(serialization_alias="processInstanceId")
    activity_id: str = Field(serialization_alias="activityId")
    business_key: str | None = Field(serialization_alias="businessKey")
    variables: dict[str, Any]
    retries: int | None
    lock_expiration_time: datetime = Field(serialization_alias="lockExpirationTime")


class CompleteIn(BaseModel):
    model_config = _Camel

    worker_id: str = WorkerId
    variables: dict[VariableName, Any] = Field(default_factory=dict)


class FailureIn(BaseModel):
    model_config = _Camel

    worker_id: str = WorkerId
    error_message: str = Field(alias="errorMessage", max_length=4000)
    error_details: str | None = Field(default=None, alias="errorDetails", max_length=100_000)
    retries: int | None = Field(
        default=None, ge=0, le=1000, description="Retries left; 0 raises an incident"
    )
    retry_timeout: int = Field(default=0, alias="retryTimeout", ge=0, le=MAX_LOCK_MS)


class BpmnErrorIn(BaseModel):
    model_config = _Camel

    worker_id: str = WorkerId
    error_code: str = Field(alias="errorCode", min_length=1, max_length=300)
    error_message: str | None = Field(default=None, alias="errorMessage", max_length=4000)
    variables: dict[VariableName, Any] = Field(default_factory=dict)


class ExtendLockIn(BaseModel):
    model_config = _Camel

    worker_id: str = WorkerId
    new_duration: int = Field(alias="newDuration", ge=1, le=MAX_LOCK_MS, description="ms")


class InstanceStatusOut(BaseModel):
    process_instance_id: str = Field(serialization_alias="processInstanceId")
    status: str


class LockOut(BaseModel):
    lock_expiration_time: datetime = Field(serialization_alias="lockExpirationTime")


def _out(task: use.ExternalTask, worker: str) -> LockedTaskOut:
    return LockedTaskOut(
        id=task.id,
        topic_name=task.topic,
        worker_id=worker,
        process_instance_id=task.instance_id,
        activity_id=task.element_id,
        business_key=task.business_key,
        variables=plain(task.variables),
        retries=task.retries,
        lock_expiration_time=task.lock_expires_at,
    )


@router.post(
    "/fetch-and-lock",
    response_model=list[LockedTaskOut],
    response_model_by_alias=True,
    responses=errors(),
)
async def fetch_and_lock(
    body: FetchIn,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.EXTERNAL_TASKS))],
) -> list[LockedTaskOut]:
    """Lock up to `maxTasks` tasks of the topics for this worker. With `asyncResponseTimeout`
    the request waits (long polling) until a task is there or the time is up."""
    ops = ops_of(request)
    topics = [(t.topic_name, timedelta(milliseconds=t.lock_duration)) for t in body.topics]

    def fetch() -> list[LockedTaskOut]:
        tasks = use.fetch_and_lock(principal, ops, body.worker_id, topics, body.max_tasks)
        return [_out(t, body.worker_id) for t in tasks]

    wait_s = min(body.async_response_timeout, MAX_ASYNC_RESPONSE_MS) / 1000
    deadline = time.monotonic() + wait_s
    pause = 0.02
    while True:
        found = await run_in_threadpool(fetch)
        left = deadline - time.monotonic()
        if found or left <= 0 or await request.is_disconnected():
            return found
        await asyncio.sleep(min(pause, left))
        pause = min(pause * 2, 0.5)


@router.post(
    "/{task_id}/complete",
    response_model=InstanceStatusOut,
    response_model_by_alias=True,
    responses=errors(404, 409),
)
def complete(
    task_id: str,
    body: CompleteIn,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.EXTERNAL_TASKS))],
) -> InstanceStatusOut:
    """Complete a task this worker has locked; 409 when the lock is someone else's or expired."""
    state = use.complete(principal, ops_of(request), task_id, body.worker_id, body.variables)
    return InstanceStatusOut(process_instance_id=state.id, status=state.status)


@router.post(
    "/{task_id}/failure",
    response_model=InstanceStatusOut,
    response_model_by_alias=True,
    responses=errors(404, 409),
)
def failure(
    task_id: str,
    body: FailureIn,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.EXTERNAL_TASKS))],
) -> InstanceStatusOut:
    """Report a failure: the task is offered again after `retryTimeout` ms while `retries`
    remain; at 0 it becomes an incident."""
    state = use.fail(
        principal,
        ops_of(request),
        task_id,
        body.worker_id,
        body.error_message,
        retries=body.retries,
        retry_timeout=timedelta(milliseconds=body.retry_timeout),
    )
    return InstanceStatusOut(process_instance_id=state.id, status=state.status)


@router.post(
    "/{task_id}/bpmn-error",
    response_model=InstanceStatusOut,
    response_model_by_alias=True,
    responses=errors(404, 409),
)
def bpmn_error(
    task_id: str,
    body: BpmnErrorIn,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.EXTERNAL_TASKS))],
) -> InstanceStatusOut:
    """Throw a BPMN error from the task, caught by an error boundary event in the model."""
    state = use.bpmn_error(
        principal,
        ops_of(request),
        task_id,
        body.worker_id,
        body.error_code,
        body.error_message,
        body.variables,
    )
    return InstanceStatusOut(process_instance_id=state.id, status=state.status)


@router.post(
    "/{task_id}/extend-lock",
    response_model=LockOut,
    response_model_by_alias=True,
    responses=errors(404, 409),
)
def extend_lock(
    task_id: str,
    body: ExtendLockIn,
    request: Request,
    principal: Annotated[Principal, Depends(require(Permission.EXTERNAL_TASKS))],
) -> LockOut:
    """Keep the lock for `newDuration` ms from now (a long-running task)."""
    duration = timedelta(milliseconds=body.new_duration)
    until = use.extend_lock(principal, ops_of(request), task_id, body.worker_id, duration)
    return LockOut(lock_expiration_time=until)
