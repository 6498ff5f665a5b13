"""What a command produced: events for the log, work items and jobs for the runtime, and the
messages, signals and child instances the runtime must deliver or start."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flowdesk.engine.state import InstanceState, Job, WorkItem, encode_value, state_to_dict

# Event types
PROCESS_STARTED = "process_started"
PROCESS_COMPLETED = "process_completed"
PROCESS_CANCELLED = "process_cancelled"
ELEMENT_ACTIVATED = "element_activated"
ELEMENT_COMPLETED = "element_completed"
ELEMENT_TERMINATED = "element_terminated"
VARIABLES_CHANGED = "variables_changed"
INCIDENT_RAISED = "incident_raised"
INCIDENT_RESOLVED = "incident_resolved"
ESCALATION_UNCAUGHT = "escalation_uncaught"


@dataclass(frozen=True, slots=True)
class Event:
    """One fact for the event log (audit, KPIs, process mining)."""

    type: str
    instance: str
    time: datetime
    element_id: str | None = None
    element_type: str | None = None
    lane: str | None = None
    actor: str | None = None
    token: str | None = None
    data: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form for the event log (FEEL numbers and dates as tagged values)."""
        out: dict[str, Any] = {"type": self.type, "instance": self.instance}
        out["time"] = self.time.isoformat()
        for key in ("element_id", "element_type", "lane", "actor", "token"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.data is not None:
            out["data"] = encode_value(self.data)
        return out


@dataclass(frozen=True, slots=True)
class ThrownMessage:
    """A message a send task / message throw event sends; the runtime correlates it."""

    name: str
    correlation_key: str | None
    variables: dict[str, Any]
    source_instance: str
    element_id: str


@dataclass(frozen=True, slots=True)
class ThrownSignal:
    name: str
    variables: dict[str, Any]
    source_instance: str
    element_id: str


@dataclass(frozen=True, slots=True)
class CallRequest:
    """Start ``process_key`` as a child of (parent_instance, parent_token) with these variables."""

    process_key: str
    variables: dict[str, Any]
    parent_instance: str
    parent_token: str
    business_key: str | None = None


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """A child instance ended: the runtime hands this to the parent (complete_call/fail_call)."""

    parent_instance: str
    parent_token: str
    variables: dict[str, Any] | None = None
    error_code: str | None = None
    error_message: str | None = None


@dataclass(slots=True)
class CommandResult:
    """The new state plus everything that happened while applying one command."""

    state: InstanceState
    events: list[Event] = field(default_factory=list)
    work_items_created: list[WorkItem] = field(default_factory=list)
    work_items_closed: list[str] = field(default_factory=list)
    jobs_created: list[Job] = field(default_factory=list)
    jobs_removed: list[str] = field(default_factory=list)
    messages: list[ThrownMessage] = field(default_factory=list)
    signals: list[ThrownSignal] = field(default_factory=list)
    calls: list[CallRequest] = field(default_factory=list)
    calls_cancelled: list[str] = field(default_factory=list)  # parent token ids
    call_outcome: CallOutcome | None = None
    escalations: list[CallOutcome] = field(default_factory=list)  # uncaught, for the parent
    matched: bool = True  # False when a message/signal/timer found nothing to trigger

    def snapshot(self) -> dict[str, Any]:
        """The compact JSON-able state to persist."""
        return state_to_dict(self.state)

    @property
    def completed(self) -> bool:
        return self.state.status == "completed"
