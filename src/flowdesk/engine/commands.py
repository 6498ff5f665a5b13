"""Commands as data, so the runtime can queue, log and replay them (``Engine.apply``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class StartInstance:
    process_key: str
    variables: dict[str, Any] = field(default_factory=dict)
    business_key: str | None = None
    start_event: str | None = None
    actor: str | None = None


@dataclass(frozen=True, slots=True)
class CompleteWorkItem:
    item_id: str
    variables: dict[str, Any] = field(default_factory=dict)
    actor: str | None = None


@dataclass(frozen=True, slots=True)
class CorrelateMessage:
    name: str
    correlation_key: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BroadcastSignal:
    name: str
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FireTimer:
    job_id: str


@dataclass(frozen=True, slots=True)
class ExecuteJob:
    """Run an async continuation (asyncBefore / asyncAfter)."""

    job_id: str


@dataclass(frozen=True, slots=True)
class CompleteExternalTask:
    job_id: str
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FailExternalTask:
    job_id: str
    message: str
    retries: int | None = None


@dataclass(frozen=True, slots=True)
class ThrowBpmnError:
    """An external worker reports a business error for its task."""

    job_id: str
    code: str
    message: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CompleteCall:
    token_id: str
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FailCall:
    token_id: str
    code: str
    message: str | None = None


@dataclass(frozen=True, slots=True)
class EscalateCall:
    token_id: str
    code: str | None = None


@dataclass(frozen=True, slots=True)
class SetVariables:
    variables: dict[str, Any]
    token_id: str | None = None


@dataclass(frozen=True, slots=True)
class ResolveIncident:
    incident_id: str
    retries: int | None = None


@dataclass(frozen=True, slots=True)
class Cancel:
    reason: str | None = None


Command = (
    CompleteWorkItem
    | CorrelateMessage
    | BroadcastSignal
    | FireTimer
    | ExecuteJob
    | CompleteExternalTask
    | FailExternalTask
    | ThrowBpmnError
    | CompleteCall
    | FailCall
    | EscalateCall
    | SetVariables
    | ResolveIncident
    | Cancel
)
