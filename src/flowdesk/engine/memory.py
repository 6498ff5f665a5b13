"""An in-memory embedding of the engine: instances in a dict, the runtime's duties done inline.

``MemoryEngine`` is what tests, the benchmark and small embedded uses drive: it keeps every
instance's state, routes work-item/job ids to their instance, starts child instances for call
activities, delivers thrown messages and signals, and fires due timers from its clock. With
``roundtrip=True`` every state goes through JSON after each command, exactly as a persisted
runtime would store and reload it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flowdesk.bpmn.model import Definitions
from flowdesk.bpmn.parser import parse_bpmn
from flowdesk.core.clock import Clock, FixedClock
from flowdesk.core.ids import IdGenerator, SequentialIds
from flowdesk.engine import start_gather
from flowdesk.engine.engine import (
    DecisionEvaluator,
    DefinitionRegistry,
    Engine,
    ServiceHandler,
)
from flowdesk.engine.errors import UnknownItemError
from flowdesk.engine.events import CommandResult, Event
from flowdesk.engine.expressions import ExpressionLanguage
from flowdesk.engine.state import InstanceState, WorkItem, state_from_json, state_to_json


class MemoryEngine:
    def __init__(
        self,
        *definitions: Definitions | str | Path,
        clock: Clock | None = None,
        ids: IdGenerator | None = None,
        handlers: Mapping[str, ServiceHandler] | None = None,
        decisions: DecisionEvaluator | None = None,
        expressions: ExpressionLanguage | None = None,
        roundtrip: bool = False,
    ) -> None:
        self.registry = DefinitionRegistry()
        self.clock = clock or FixedClock()
        self.engine = Engine(
            self.registry,
            clock=self.clock,
            ids=ids or SequentialIds(),
            handlers=handlers,
            decisions=decisions,
            expressions=expressions,
        )
        self.roundtrip = roundtrip
        self.instances: dict[str, InstanceState] = {}
        self.events: list[Event] = []
        self.max_snapshot_bytes = 0
        self._children: dict[tuple[str, str], str] = {}  # (parent, token) -> child instance
        #: triggers of parallel multiple start events, per (process, start event), oldest first
        self.held: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for definition in definitions:
            self.deploy(definition)

    # -- deployment -------------------------------------------------------------------------
    def deploy(self, source: Definitions | str | Path) -> list[str]:
        if isinstance(source, Definitions):
            definitions = source
        elif isinstance(source, Path) or (
            isinstance(source, str) and not source.lstrip().startswith("<")
        ):
            definitions = parse_bpmn(Path(source))
        else:
            definitions = parse_bpmn(source)
        return self.registry.deploy(definitions)

    # -- commands ---------------------------------------------------------------------------
    def start(
        self,
        process_key: str,
        variables: Mapping[str, Any] | None = None,
        business_key: str | None = None,
        *,
        start_event: str | None = None,
    ) -> InstanceState:
        result = self.engine.start(process_key, variables, business_key, start_event=start_event)
        return self._absorb(result)

    def complete_work_item(
        self, item_id: str, variables: Mapping[str, Any] | None = None, *, actor: str | None = None
    ) -> InstanceState:
        state = self._owner(lambda s: item_id in s.work, f"work item '{item_id}'")
        return self._absorb(self.engine.complete_work_item(state, item_id, variables, actor=actor))

    def correlate_message(
        self,
        name: str,
        correlation_key: Any = None,
        variables: Mapping[str, Any] | None = None,
    ) -> InstanceState | None:
        """Deliver to the first waiting instance, else start a process with that message start."""
        for state in list(self.instances.values()):
            if not state.active:
                continue
            result = self.engine.correlate_message(state, name, correlation_key, variables)
            if result.matched:
                return self._absorb(result)
        for key, start_id in self.registry.start_events("message", name):
            if self.registry.get(key).nodes[start_id].parallel_multiple:
                _strict, derived = self.engine.message_key(key, name, correlation_key, variables)
                return self._gather(key, start_id, f"message:{name}", derived, variables)
            return self.start(key, variables, start_event=start_id)
        return None

    def broadcast_signal(
        self, name: str, variables: Mapping[str, Any] | None = None, *, skip: str | None = None
    ) -> None:
        for state in list(self.instances.values()):
            current = self.instances[state.id]
            if current.active and current.id != skip:
                result = self.engine.broadcast_signal(current, name, variables)
                if result.matched:
                    self._absorb(result)
        for key, start_id in self.registry.start_events("signal", name):
            if self.registry.get(key).nodes[start_id].parallel_multiple:
                self._gather(key, start_id, f"signal:{name}", None, variables)
            else:
                self.start(key, variables, start_event=start_id)

    def _gather(
        self,
        key: str,
        start_id: str,
        trigger: str,
        correlation_key: str | None,
        variables: Mapping[str, Any] | None,
    ) -> InstanceState | None:
        """BPMN 10.5.2: hold a trigger of a parallel multiple start event; start one instance
        once all of its triggers came (as the persisted runtime does, in memory)."""
        held = self.held.setdefault((key, start_id), [])
        held.append(
            {
                "trigger": trigger,
                "correlation_key": correlation_key,
                "variables": dict(variables or {}),
            }
        )
        found = start_gather.complete_set(
            self.registry.get(key).nodes[start_id], held, correlation_key
        )
        if found is None:
            return None
        business_key, rows = found
        chosen = {id(r) for r in rows}
        held[:] = [r for r in held if id(r) not in chosen]
        return self.start(
            key, start_gather.merged_variables(rows), business_key, start_event=start_id
        )

    def fire_due_timers(self) -> int:
        """Fire every timer due at the clock's current time; returns how many fired."""
        fired = 0
        now = self.clock.now().isoformat()
        while True:
            due = [
                (job.due or "", state.id, job.id)
                for state in self.instances.values()
                if state.active
                for job in state.jobs.values()
                if job.kind == "timer" and (job.due or "") <= now
            ]
            if not due:
                return fired
            _, instance_id, job_id = min(due)
            self._absorb(self.engine.fire_timer(self.instances[instance_id], job_id))
            fired += 1

    def run_jobs(self) -> int:
        """Execute pending async continuations."""
        count = 0
        while True:
            pending = [
                (state.id, job.id)
                for state in self.instances.values()
                if state.active
                for job in state.jobs.values()
                if job.kind == "async"
            ]
            if not pending:
                return count
            instance_id, job_id = pending[0]
            self._absorb(self.engine.execute_job(self.instances[instance_id], job_id))
            count += 1

    def complete_external_task(
        self, job_id: str, variables: Mapping[str, Any] | None = None
    ) -> InstanceState:
        state = self._owner(lambda s: job_id in s.jobs, f"job '{job_id}'")
        return self._absorb(self.engine.complete_external_task(state, job_id, variables))

    def fail_external_task(
        self, job_id: str, message: str, retries: int | None = None
    ) -> InstanceState:
        state = self._owner(lambda s: job_id in s.jobs, f"job '{job_id}'")
        return self._absorb(self.engine.fail_external_task(state, job_id, message, retries))

    def external_bpmn_error(
        self, job_id: str, code: str, variables: Mapping[str, Any] | None = None
    ) -> InstanceState:
        state = self._owner(lambda s: job_id in s.jobs, f"job '{job_id}'")
        return self._absorb(self.engine.external_bpmn_error(state, job_id, code, None, variables))

    def set_variables(self, instance_id: str, variables: Mapping[str, Any]) -> InstanceState:
        return self._absorb(self.engine.set_variables(self.instances[instance_id], variables))

    def cancel(self, instance_id: str, reason: str | None = None) -> InstanceState:
        return self._absorb(self.engine.cancel(self.instances[instance_id], reason))

    # -- queries ----------------------------------------------------------------------------
    def work_items(self, instance_id: str | None = None) -> list[WorkItem]:
        return [
            item
            for state in self.instances.values()
            if instance_id is None or state.id == instance_id
            for item in state.work.values()
        ]

    def get(self, instance_id: str) -> InstanceState:
        return self.instances[instance_id]

    # -- plumbing ---------------------------------------------------------------------------
    def _owner(self, test: Callable[[InstanceState], bool], what: str) -> InstanceState:
        for state in self.instances.values():
            if state.active and test(state):
                return state
        raise UnknownItemError(f"{what} is not open in any instance")

    def _calling(self, instance_id: str, token_id: str) -> bool:
        """Whether that instance's call activity token still waits for its child."""
        state = self.instances.get(instance_id)
        token = state.tokens.get(token_id) if state is not None else None
        return state is not None and state.active and token is not None and token.wait == "call"

    def _absorb(self, result: CommandResult) -> InstanceState:
        state = result.state
        if self.roundtrip:
            text = state_to_json(state)
            self.max_snapshot_bytes = max(self.max_snapshot_bytes, len(text))
            state = state_from_json(text)
        self.instances[state.id] = state
        self.events.extend(result.events)
        for token_id in result.calls_cancelled:
            child = self._children.pop((state.id, token_id), None)
            if child is not None and self.instances[child].active:
                self._absorb(self.engine.cancel(self.instances[child], "parent ended"))
        for call in result.calls:
            child_result = self.engine.start(
                call.process_key,
                call.variables,
                call.business_key,
                parent=(call.parent_instance, call.parent_token),
            )
            self._children[(call.parent_instance, call.parent_token)] = child_result.state.id
            self._absorb(child_result)
        for escalation in result.escalations:  # before the outcome, as the runtime does
            if self._calling(escalation.parent_instance, escalation.parent_token):
                parent = self.instances[escalation.parent_instance]
                self._absorb(
                    self.engine.escalate_call(
                        parent, escalation.parent_token, escalation.error_code
                    )
                )
        outcome = result.call_outcome
        if outcome is not None and self._calling(outcome.parent_instance, outcome.parent_token):
            parent = self.instances[outcome.parent_instance]
            self._children.pop((outcome.parent_instance, outcome.parent_token), None)
            if outcome.error_code is not None:
                self._absorb(
                    self.engine.fail_call(
                        parent, outcome.parent_token, outcome.error_code, outcome.error_message
                    )
                )
            else:
                self._absorb(
                    self.engine.complete_call(parent, outcome.parent_token, outcome.variables)
                )
        for message in result.messages:
            self.correlate_message(message.name, message.correlation_key, message.variables)
        for signal in result.signals:  # the thrower's own catchers already had it
            self.broadcast_signal(signal.name, signal.variables, skip=signal.source_instance)
        return self.instances[state.id]
