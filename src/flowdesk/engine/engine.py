"""The pure process engine: commands in, (new state, events, work items, jobs) out.

No I/O: the registry gives frozen definitions, the clock gives time, ids come from an injected
generator and service handlers / DMN are plain callables. Every command works on a copy of the
state it is given, so a failed command leaves the caller's state untouched, and the runtime
persists ``result.snapshot()`` (load, apply, write back, with the version for optimistic locking).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from flowdesk.bpmn.model import Definitions, Node, Process
from flowdesk.core.clock import Clock, SystemClock
from flowdesk.core.ids import IdGenerator, UuidIds
from flowdesk.engine import commands as cmd
from flowdesk.engine import events as ev
from flowdesk.engine.behaviours import BEHAVIOURS, Behaviour
from flowdesk.engine.behaviours.inclusive_gateway import try_join
from flowdesk.engine.errors import EngineError, Incident, InstanceEndedError, UnknownItemError
from flowdesk.engine.events import CallOutcome, CommandResult, ThrownMessage, ThrownSignal
from flowdesk.engine.expressions import ExpressionLanguage, FeelLanguage
from flowdesk.engine.run import Run, key_text
from flowdesk.engine.state import InstanceState, Subscription, Token


class ProcessRegistry(Protocol):
    """Where the engine finds the definition an instance runs (the runtime may version keys)."""

    def get(self, process_key: str) -> Process: ...


class DecisionEvaluator(Protocol):
    """DMN for business rule tasks: the runtime supplies it (flowdesk.dmn behind it)."""

    def evaluate(self, decision: str, variables: Mapping[str, Any]) -> Any: ...


@dataclass(frozen=True, slots=True)
class ServiceCall:
    """What a service handler gets; it returns variables to set (or None) or raises BpmnError."""

    instance_id: str
    element_id: str
    topic: str
    variables: Mapping[str, Any]
    business_key: str | None


ServiceHandler = Callable[[ServiceCall], Mapping[str, Any] | None]


class DefinitionRegistry:
    """In-memory registry: the latest deployed version of each process id."""

    def __init__(self, *definitions: Definitions) -> None:
        self._processes: dict[str, Process] = {}
        for definition in definitions:
            self.deploy(definition)

    def deploy(self, definitions: Definitions) -> list[str]:
        deployed = [p for p in definitions.processes.values() if p.executable]
        for process in deployed:
            self._processes[process.id] = process
        return [p.id for p in deployed]

    def get(self, process_key: str) -> Process:
        try:
            return self._processes[process_key]
        except KeyError:
            raise EngineError(f"no process '{process_key}' is deployed") from None

    def timer_starts(self) -> list[tuple[str, str, str, str]]:
        """(process key, start event id, timer kind, value) for the runtime to schedule."""
        found = []
        for key, process in self._processes.items():
            for sid in process.start_events.get(process.id, ()):
                definition = process.nodes[sid].event
                if definition is not None and definition.kind == "timer":
                    found.append((key, sid, definition.timer or "", definition.value or ""))
        return found

    def start_events(self, kind: str, name: str) -> list[tuple[str, str]]:
        """(process key, start event id) of top-level message/signal start events for ``name``."""
        found = []
        for key, process in self._processes.items():
            for sid in process.start_events.get(process.id, ()):
                definition = process.nodes[sid].event
                if definition is not None and definition.kind == kind and definition.ref == name:
                    found.append((key, sid))
        return found


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
        key = key_text(correlation_key)
        for sub in state.subs.values():
            if (
                sub.kind == "message"
                and sub.name == name
                and (key is None or sub.key is None or sub.key == key)
            ):
                run = self._begin(state)
                self.trigger(run, run.state.subs[sub.id], dict(variables or {}))
                return self._finish(run)
        return CommandResult(state, matched=False)

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
                self.trigger(run, sub, dict(variables or {}))
                run.drain()
        return self._finish(run)

    def fire_timer(self, state: InstanceState, job_id: str) -> CommandResult:
        run = self._begin(state)
        sub = run.state.subs.get(job_id)
        if sub is None or sub.kind != "timer":
            raise UnknownItemError(f"timer job '{job_id}' is not pending in instance '{state.id}'")
        self.trigger(run, sub, {})
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
        run.guarded(token, lambda t: self.throw_error(run, t, code, message, dict(variables or {})))
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
                from flowdesk.engine.state import Scope

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
        run.guarded(token, lambda t: self.throw_error(run, t, code, message, {}))
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

    # -- triggers ---------------------------------------------------------------------------
    def trigger(self, run: Run, sub: Subscription, variables: dict[str, Any]) -> None:
        """A subscription fired: route it to its boundary, event subprocess or waiting token."""
        node = run.nodes[sub.el]
        if sub.owner.startswith("scope:"):
            self._start_event_subprocess(run, sub.owner[6:], node, sub, variables)
            return
        owner = run.state.tokens[sub.owner]
        if node.type == "boundaryEvent":
            if node.cancel_activity:
                run.terminate(owner)
            elif sub.kind == "timer":
                run.remove_sub(sub.id)
                run.reschedule(sub)
            run.set_vars(owner.scope, variables)
            run.flush_changes(node)
            run.enter(node.id, owner.scope)
            return
        owner_node = run.nodes[owner.el]
        run.guarded(
            owner,
            lambda t: self.behaviour(owner_node).trigger(run, t, owner_node, sub, variables),
        )

    def _start_event_subprocess(
        self, run: Run, scope_id: str, start: Node, sub: Subscription, variables: dict[str, Any]
    ) -> None:
        if start.cancel_activity:
            run.terminate_scope(scope_id)
        elif sub.kind == "timer":
            run.remove_sub(sub.id)
            run.reschedule(sub)
        run.set_vars(scope_id, variables)
        run.flush_changes(start)
        run.enter(start.scope, scope_id, data={"start": start.id})

    def settle(self, run: Run) -> bool:
        """After the agenda ran dry: fire inclusive joins and conditional events. True if any."""
        state = run.state
        for token in list(state.tokens.values()):
            if token.wait == "ijoin" and token.id in state.tokens and try_join(run, token):
                return True
        for sub in list(state.subs.values()):
            if sub.kind != "conditional" or sub.id not in state.subs:
                continue
            if sub.owner.startswith("scope:"):
                scope = sub.owner[6:]
            else:
                owner = state.tokens.get(sub.owner)
                scope = run.scope_of(owner) if owner is not None else ""
            try:
                holds = run.condition(sub.name or "false", scope)
            except Incident:
                holds = False
            was = sub.key == "1"
            state.subs[sub.id] = dataclasses.replace(sub, key="1" if holds else None)
            if holds and not was:
                self.trigger(run, state.subs[sub.id], {})
                return True
        return False

    # -- throwing ---------------------------------------------------------------------------
    def throw_message(self, run: Run, token: Token, name: str, key_expr: str | None) -> None:
        scope = run.scope_of(token)
        key = key_text(run.value(key_expr, scope)) if key_expr else None
        local = run.state.scopes.get(token.id)
        payload = dict(local.vars) if local is not None else {}
        run.result.messages.append(ThrownMessage(name, key, payload, run.state.id, token.el))

    def throw_signal(self, run: Run, token: Token, name: str) -> None:
        local = run.state.scopes.get(token.id)
        payload = dict(local.vars) if local is not None else {}
        run.result.signals.append(ThrownSignal(name, payload, run.state.id, token.el))

    def throw_error(
        self,
        run: Run,
        token: Token,
        code: str | None,
        message: str | None,
        variables: dict[str, Any],
    ) -> None:
        """Find the nearest error boundary / error event subprocess from ``token`` outwards."""
        if self._catch(run, token, "error", code, variables):
            return
        state = run.state
        if state.parent:
            run.terminate_scope("")
            state.status = "completed"
            state.ended = run.now_text
            run.emit(ev.PROCESS_COMPLETED, data={"process": state.process, "error": code})
            run.result.call_outcome = CallOutcome(
                state.parent[0], state.parent[1], None, code or "", message
            )
            return
        raise Incident(f"BPMN error '{code}' was not caught" + (f": {message}" if message else ""))

    def throw_escalation(self, run: Run, token: Token, code: str | None) -> None:
        self._catch(run, token, "escalation", code, {})

    def _catch(
        self, run: Run, token: Token, kind: str, code: str | None, variables: dict[str, Any]
    ) -> bool:
        state = run.state
        process = run.process
        current = token
        while True:
            inner = bool(current.data and current.data.get("inner"))
            if not inner:
                for bid in process.boundaries.get(current.el, ()):
                    boundary = run.nodes[bid]
                    definition = boundary.event
                    if definition is None or definition.kind != kind:
                        continue
                    if definition.ref is not None and definition.ref != code:
                        continue
                    if boundary.cancel_activity:
                        run.terminate(current)
                    run.set_vars(current.scope, variables)
                    run.enter(bid, current.scope)
                    return True
            scope_id = current.scope
            scope = state.scopes.get(scope_id) if scope_id else None
            container = process.id if not scope_id else (scope.el if scope else None)
            if scope is not None and scope.kind == "mi":
                container = None
            for esp in process.event_subprocesses.get(container or "", ()):
                if esp == current.el:
                    continue
                for sid in process.start_events.get(esp, ()):
                    start = run.nodes[sid]
                    definition = start.event
                    if definition is None or definition.kind != kind:
                        continue
                    if definition.ref is not None and definition.ref != code:
                        continue
                    if start.cancel_activity:
                        run.terminate_scope(scope_id)
                    run.set_vars(scope_id, variables)
                    run.enter(esp, scope_id, data={"start": sid})
                    return True
            if not scope_id or scope is None:
                return False
            owner = state.tokens.get((scope.owner or "") if scope.kind == "mi" else scope.id)
            if owner is None:
                return False
            current = owner

    # -- analysis ---------------------------------------------------------------------------
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

    def on_instance_completed(self, run: Run) -> None:
        state = run.state
        for job_id in list(state.jobs):
            run.remove_job(job_id)
        if state.parent:
            run.result.call_outcome = CallOutcome(
                state.parent[0], state.parent[1], dict(state.vars)
            )
