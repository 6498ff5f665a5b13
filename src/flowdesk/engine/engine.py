"""The pure process engine: commands in, (new state, events, work items, jobs) out.

No I/O: the registry gives frozen definitions, the clock gives time, ids come from an injected
generator and service handlers / DMN are plain callables. Every command works on a copy of the
state it is given, so a failed command leaves the caller's state untouched, and the runtime
persists ``result.snapshot()`` (load, apply, write back, with the version for optimistic locking).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from flowdesk.bpmn.model import Node, Process
from flowdesk.core.clock import Clock, SystemClock
from flowdesk.core.ids import IdGenerator, UuidIds
from flowdesk.engine import commands as cmd
from flowdesk.engine import events as ev
from flowdesk.engine.behaviours import BEHAVIOURS, Behaviour, compensation
from flowdesk.engine.errors import EngineError, InstanceEndedError, UnknownItemError
from flowdesk.engine.events import CommandResult
from flowdesk.engine.expressions import ExpressionError, ExpressionLanguage, FeelLanguage
from flowdesk.engine.propagation import throw_error, throw_escalation, trigger
from flowdesk.engine.registry import (
    DecisionEvaluator,
    DefinitionRegistry,
    ProcessRegistry,
    ServiceCall,
    ServiceHandler,
)
from flowdesk.engine.run import Run
from flowdesk.engine.state import InstanceState, Scope, Token
from flowdesk.engine.variables import key_text

__all__ = [
    "DecisionEvaluator",
    "DefinitionRegistry",
    "Engine",
    "ProcessRegistry",
    "ServiceCall",
    "ServiceHandler",
]


class Engine:
    def __init__(
        self,
        registry: ProcessRegistry,
        *,
        clock: Clock | None = None,
        ids: IdGenerator | None = None,
        handlers: Mapping[str, ServiceHandler] | None = None,
        decisions: DecisionEvaluator | None = None,
        expressions: ExpressionLanguage | None = None,
        behaviours: Mapping[str, Behaviour] | None = None,
    ) -> None:
        self.registry = registry
        self.clock = clock or SystemClock()
        self.ids = ids or UuidIds()
        self.handlers: dict[str, ServiceHandler] = dict(handlers or {})
        self.decisions = decisions
        self._expressions = expressions
        self._behaviours = dict(BEHAVIOURS)
        self._behaviours.update(behaviours or {})
        self._upstream: dict[tuple[str, str], frozenset[str]] = {}
        self._checked: dict[int, Process] = {}  # holds the object so its id stays unique
        self._plans: dict[int, tuple[Process, compensation.Plan]] = {}

    @property
    def expressions(self) -> ExpressionLanguage:
        if self._expressions is None:
            self._expressions = FeelLanguage(self.clock)
        return self._expressions

    def new_id(self) -> str:
        return self.ids.new_id()

    def behaviour(self, node: Node) -> Behaviour:
        return self._behaviours[node.type]

    # -- commands ---------------------------------------------------------------------------
    def start(
        self,
        process_key: str,
        variables: Mapping[str, Any] | None = None,
        business_key: str | None = None,
        *,
        start_event: str | None = None,
        parent: tuple[str, str] | None = None,
        actor: str | None = None,
        instance_id: str | None = None,
    ) -> CommandResult:
        process = self.registry.get(process_key)
        if not process.executable:
            raise EngineError(
                f"process '{process_key}' is descriptive (isExecutable=\"false\"): it serves "
                "diagrams and conformance checking, not instances",
                hint='set isExecutable="true" and deploy it again to run it',
            )
        self._check_process(process)
        start_id = start_event or process.none_start(process.id)
        if start_id is None or start_id not in process.nodes:
            raise EngineError(
                f"process '{process_key}' has no plain start event"
                if start_event is None
                else f"start event '{start_event}' is not in process '{process_key}'",
                hint="start it through its message/timer/signal start event id",
            )
        now = self.clock.now()
        state = InstanceState(
            id=instance_id or self.new_id(),
            process=process_key,
            business_key=business_key,
            version=1,
            started=now.isoformat(),
            parent=list(parent) if parent else None,
        )
        run = Run(self, state, process, actor)
        run.emit(
            ev.PROCESS_STARTED,
            data={"process": process_key, "business_key": business_key},
            actor=actor,
        )
        run.set_vars("", variables)
        run.flush_changes(actor=actor)
        run.arm_event_subprocesses(process.id, "")
        run.enter(start_id, "")
        return self._finish(run)

    def complete_work_item(
        self,
        state: InstanceState,
        item_id: str,
        variables: Mapping[str, Any] | None = None,
        *,
        actor: str | None = None,
    ) -> CommandResult:
        run = self._begin(state, actor)
        item = run.state.work.pop(item_id, None)
        if item is None:
            raise UnknownItemError(f"work item '{item_id}' is not open in instance '{state.id}'")
        run.result.work_items_closed.append(item_id)
        token = run.state.tokens[item.token]
        node = run.nodes[token.el]
        local = run.state.scopes.get(token.id)
        if variables:
            if node.outputs and local is not None:
                local.vars.update(variables)
                run.changed.update(variables)
            else:
                run.set_vars(run.scope_of(token), variables)
        run.flush_changes(node, actor)
        token.wait = ""
        run.actor_token = token.id
        run.guarded(token, run.complete)
        return self._finish(run)

    def correlate_message(
        self,
        state: InstanceState,
        name: str,
        correlation_key: Any = None,
        variables: Mapping[str, Any] | None = None,
    ) -> CommandResult:
        strict, key = self.message_key(state.process, name, correlation_key, variables)
        for sub in state.subs.values():
            if (
                sub.kind == "message"
                and sub.name == name
                and (sub.key is None or sub.key == key or (key is None and not strict))
            ):
                run = self._begin(state)
                trigger(run, run.state.subs[sub.id], dict(variables or {}))
                return self._finish(run)
        return CommandResult(state, matched=False)

    def message_key(
        self,
        process_key: str,
        name: str,
        correlation_key: Any,
        variables: Mapping[str, Any] | None,
    ) -> tuple[bool, str | None]:
        """(strict, key) of a message for `process_key`'s subscriptions. Where the model
        declares a correlationProperty for the message, correlation is strict (BPMN 8.3.2: "a
        Message is delivered only to the instance whose key values match") and the key, unless
        given, is read from the payload through its messagePath."""
        key = key_text(correlation_key)
        path = self.registry.get(process_key).message_paths.get(name)
        if path is None:
            return False, key
        if key is None:
            try:
                key = key_text(self.expressions.evaluate(path, dict(variables or {})))
            except ExpressionError:
                key = None
        return True, key

    def broadcast_signal(
        self, state: InstanceState, name: str, variables: Mapping[str, Any] | None = None
    ) -> CommandResult:
        if not state.active:
            return CommandResult(state, matched=False)
        ids = [s.id for s in state.subs.values() if s.kind == "signal" and s.name == name]
        if not ids:
            return CommandResult(state, matched=False)
        run = self._begin(state)
        for sub_id in ids:
            sub = run.state.subs.get(sub_id)
            if sub is not None:
                trigger(run, sub, dict(variables or {}))
                run.drain()
        return self._finish(run)

    def fire_timer(self, state: InstanceState, job_id: str) -> CommandResult:
        run = self._begin(state)
        sub = run.state.subs.get(job_id)
        if sub is None or sub.kind != "timer":
            raise UnknownItemError(f"timer job '{job_id}' is not pending in instance '{state.id}'")
        trigger(run, sub, {})
        return self._finish(run)

    def execute_job(self, state: InstanceState, job_id: str) -> CommandResult:
        """Continue an asyncBefore / asyncAfter element."""
        run = self._begin(state)
        job = run.state.jobs.get(job_id)
        if job is None or job.kind != "async":
            raise UnknownItemError(f"async job '{job_id}' is not pending in instance '{state.id}'")
        run.remove_job(job_id)
        token = run.state.tokens[job.token]
        node = run.nodes[token.el]
        after = token.wait == "async-after"
        token.wait = ""
        if after:
            run.guarded(token, lambda t: run.leave(t, node))
        else:
            run.guarded(token, lambda t: run.begin(t, node))
        return self._finish(run)

    def complete_external_task(
        self, state: InstanceState, job_id: str, variables: Mapping[str, Any] | None = None
    ) -> CommandResult:
        run, token = self._external(state, job_id)
        run.set_vars(run.scope_of(token), variables)
        run.flush_changes(run.nodes[token.el])
        token.wait = ""
        run.guarded(token, run.complete)
        return self._finish(run)

    def fail_external_task(
        self, state: InstanceState, job_id: str, message: str, retries: int | None = None
    ) -> CommandResult:
        """A worker failed; with no retries left the task becomes an incident."""
        run = self._begin(state)
        job = run.state.jobs.get(job_id)
        if job is None or job.kind != "external":
            raise UnknownItemError(f"external task '{job_id}' is not open in instance '{state.id}'")
        left = retries if retries is not None else (job.retries or 1) - 1
        job = dataclasses.replace(job, retries=left, error=message)
        run.state.jobs[job_id] = job
        if left <= 0:
            run.raise_incident(run.state.tokens[job.token], message, job=job_id)
        return self._finish(run)

    def external_bpmn_error(
        self,
        state: InstanceState,
        job_id: str,
        code: str,
        message: str | None = None,
        variables: Mapping[str, Any] | None = None,
    ) -> CommandResult:
        run, token = self._external(state, job_id)
        token.wait = ""
        run.guarded(token, lambda t: throw_error(run, t, code, message, dict(variables or {})))
        return self._finish(run)

    def complete_call(
        self, state: InstanceState, token_id: str, variables: Mapping[str, Any] | None = None
    ) -> CommandResult:
        """The child instance started for call activity token ``token_id`` completed."""
        run = self._begin(state)
        token = self._call_token(run, token_id)
        node = run.nodes[token.el]
        if node.outputs:
            local = run.state.scopes.get(token.id)
            if local is None:
                local = Scope(token.id, node.id, token.scope, "local")
                run.state.scopes[token.id] = local
            local.vars.update(variables or {})
        else:
            run.set_vars(token.scope, variables)
        token.wait = ""
        run.guarded(token, run.complete)
        return self._finish(run)

    def fail_call(
        self, state: InstanceState, token_id: str, code: str, message: str | None = None
    ) -> CommandResult:
        """The child instance ended with an unhandled BPMN error: rethrow it at the call."""
        run = self._begin(state)
        token = self._call_token(run, token_id)
        token.wait = ""
        run.guarded(token, lambda t: throw_error(run, t, code, message, {}))
        return self._finish(run)

    def escalate_call(self, state: InstanceState, token_id: str, code: str | None) -> CommandResult:
        """A child instance escalated without catching it: look for a catcher from the call."""
        run = self._begin(state)
        token = self._call_token(run, token_id)
        run.guarded(token, lambda t: throw_escalation(run, t, code))
        return self._finish(run)

    def set_variables(
        self,
        state: InstanceState,
        variables: Mapping[str, Any],
        *,
        token_id: str | None = None,
        actor: str | None = None,
    ) -> CommandResult:
        run = self._begin(state, actor)
        if token_id is not None and token_id not in run.state.tokens:
            raise UnknownItemError(f"token '{token_id}' is not in instance '{state.id}'")
        scope = run.scope_of(run.state.tokens[token_id]) if token_id else ""
        run.set_vars(scope, variables)
        run.flush_changes(actor=actor)
        return self._finish(run)

    def resolve_incident(
        self, state: InstanceState, incident_id: str, *, retries: int | None = None
    ) -> CommandResult:
        """Retry after fixing the cause: external tasks get retries, other elements re-run."""
        run = self._begin(state)
        incident = run.state.incidents.pop(incident_id, None)
        if incident is None:
            raise UnknownItemError(f"incident '{incident_id}' is not open in instance '{state.id}'")
        run.emit(ev.INCIDENT_RESOLVED, run.nodes[incident.el], data={"incident": incident_id})
        token = run.state.tokens[incident.token]
        if incident.job is not None and incident.job in run.state.jobs:
            job = run.state.jobs[incident.job]
            run.state.jobs[job.id] = dataclasses.replace(job, retries=retries or 1, error=None)
            token.wait = "external"
            return self._finish(run)
        token.wait = ""
        node = run.nodes[token.el]
        if token.data and token.data.pop("leave", None):
            run.guarded(token, lambda t: run.leave(t, node))
        else:
            run.guarded(token, lambda t: run.begin(t, node))
        return self._finish(run)

    def cancel(self, state: InstanceState, reason: str | None = None) -> CommandResult:
        run = self._begin(state)
        run.terminate_scope("")
        run.state.status = "cancelled"
        run.state.ended = run.now_text
        run.emit(ev.PROCESS_CANCELLED, data={"reason": reason} if reason else None)
        return run.result

    def apply(self, state: InstanceState | None, command: Any) -> CommandResult:
        """Dispatch a command dataclass from ``flowdesk.engine.commands``."""
        if isinstance(command, cmd.StartInstance):
            return self.start(
                command.process_key,
                command.variables,
                command.business_key,
                start_event=command.start_event,
                actor=command.actor,
            )
        if state is None:
            raise EngineError(f"{type(command).__name__} needs an instance state")
        match command:
            case cmd.CompleteWorkItem(item_id, variables, actor):
                return self.complete_work_item(state, item_id, variables, actor=actor)
            case cmd.CorrelateMessage(name, key, variables):
                return self.correlate_message(state, name, key, variables)
            case cmd.BroadcastSignal(name, variables):
                return self.broadcast_signal(state, name, variables)
            case cmd.FireTimer(job_id):
                return self.fire_timer(state, job_id)
            case cmd.ExecuteJob(job_id):
                return self.execute_job(state, job_id)
            case cmd.CompleteExternalTask(job_id, variables):
                return self.complete_external_task(state, job_id, variables)
            case cmd.FailExternalTask(job_id, message, retries):
                return self.fail_external_task(state, job_id, message, retries)
            case cmd.ThrowBpmnError(job_id, code, message, variables):
                return self.external_bpmn_error(state, job_id, code, message, variables)
            case cmd.CompleteCall(token_id, variables):
                return self.complete_call(state, token_id, variables)
            case cmd.FailCall(token_id, code, message):
                return self.fail_call(state, token_id, code, message)
            case cmd.EscalateCall(token_id, code):
                return self.escalate_call(state, token_id, code)
            case cmd.SetVariables(variables, token_id):
                return self.set_variables(state, variables, token_id=token_id)
            case cmd.ResolveIncident(incident_id, retries):
                return self.resolve_incident(state, incident_id, retries=retries)
            case cmd.Cancel(reason):
                return self.cancel(state, reason)
        raise EngineError(f"unknown command {type(command).__name__}")

    # -- command plumbing -------------------------------------------------------------------
    def _begin(self, state: InstanceState, actor: str | None = None) -> Run:
        if not state.active:
            raise InstanceEndedError(f"instance '{state.id}' is {state.status}")
        copy = state.clone()
        copy.version += 1
        return Run(self, copy, self.registry.get(copy.process), actor)

    def _finish(self, run: Run) -> CommandResult:
        run.drain()
        run.flush_changes()
        return run.result

    def _external(self, state: InstanceState, job_id: str) -> tuple[Run, Token]:
        run = self._begin(state)
        job = run.state.jobs.get(job_id)
        if job is None or job.kind != "external":
            raise UnknownItemError(f"external task '{job_id}' is not open in instance '{state.id}'")
        run.remove_job(job_id)
        for inc in [i for i in run.state.incidents.values() if i.job == job_id]:
            del run.state.incidents[inc.id]
        return run, run.state.tokens[job.token]

    def _call_token(self, run: Run, token_id: str) -> Token:
        token = run.state.tokens.get(token_id)
        if token is None or token.wait != "call":
            raise UnknownItemError(f"no call activity token '{token_id}' waits in '{run.state.id}'")
        return token

    def _check_process(self, process: Process) -> None:
        if self._checked.get(id(process)) is process:
            return
        if self.decisions is None:
            for node in process.nodes.values():
                if node.type == "businessRuleTask" and node.task and node.task.decision_ref:
                    raise EngineError(
                        f"DMN is not available: businessRuleTask '{node.id}' of process "
                        f"'{process.id}' needs a DecisionEvaluator",
                        hint="pass decisions=... (flowdesk.dmn) to Engine",
                    )
        self._checked[id(process)] = process

    # -- analysis ---------------------------------------------------------------------------
    def compensation_plan(self, process: Process) -> compensation.Plan:
        """What ``process`` can compensate (handlers, compensation event subprocesses, which
        completions to record), worked out once per definition object."""
        cached = self._plans.get(id(process))
        if cached is not None and cached[0] is process:
            return cached[1]
        plan = compensation.plan_for(process)
        self._plans[id(process)] = (process, plan)
        return plan

    def upstream(self, process: Process, gateway: str) -> frozenset[str]:
        """Elements from which a token can still reach ``gateway`` (for the OR-join)."""
        key = (process.id, gateway)
        found = self._upstream.get(key)
        if found is None:
            seen: set[str] = set()
            stack = [process.flows[f].source for f in process.nodes[gateway].incoming]
            while stack:
                nid = stack.pop()
                if nid in seen or nid == gateway:
                    continue
                seen.add(nid)
                node = process.nodes[nid]
                stack.extend(process.flows[f].source for f in node.incoming)
                if node.type == "boundaryEvent" and node.attached_to:
                    stack.append(node.attached_to)
                if node.type == "intermediateCatchEvent" and node.event_kind == "link":
                    stack.extend(
                        n.id
                        for n in process.nodes.values()
                        if n.type == "intermediateThrowEvent"
                        and n.event_kind == "link"
                        and n.event is not None
                        and n.event.ref == node.event.ref  # type: ignore[union-attr]
                    )
            found = frozenset(seen)
            self._upstream[key] = found
        return found
