"""Applying one command: the token lifecycle, variables, subscriptions and scope completion.

A ``Run`` lives for one command. Behaviours (one module per element kind) only decide what is
special about their element; activation, completion, termination, boundary subscriptions,
variable scoping and scope completion live here, in one place. Work is queued on an agenda rather
than done by recursion, so long chains of automatic steps never exhaust the Python stack.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flowdesk.bpmn.model import EventDefinition, Node, Process
from flowdesk.bpmn.timers import first_due, parse_cycle
from flowdesk.engine import events as ev
from flowdesk.engine.errors import Incident
from flowdesk.engine.events import CommandResult, Event
from flowdesk.engine.state import Incident as IncidentRecord
from flowdesk.engine.state import InstanceState, Job, Scope, Subscription, Token, WorkItem
from flowdesk.engine.variables import VariableAccess, key_text
from flowdesk.feel.strings import to_string

if TYPE_CHECKING:
    from flowdesk.engine.engine import Engine


class Run(VariableAccess):
    def __init__(
        self, engine: Engine, state: InstanceState, process: Process, actor: str | None = None
    ) -> None:
        self.engine = engine
        self.state = state
        self.process = process
        self.nodes = process.nodes
        self.comp = engine.compensation_plan(process)
        self.actor = actor
        self.now: datetime = engine.clock.now()
        self.now_text = self.now.isoformat()
        self.result = CommandResult(state)
        self.agenda: deque[str] = deque()
        self.changed: dict[str, Any] = {}
        self.actor_token: str | None = None  # the token whose completion the actor caused
        self.leaving: Token | None = None  # the token whose outgoing flows are being chosen

    # -- ids and events ---------------------------------------------------------------------
    def next_id(self) -> str:
        self.state.seq += 1
        return str(self.state.seq)

    def emit(
        self,
        kind: str,
        node: Node | None = None,
        token: Token | None = None,
        data: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> None:
        self.result.events.append(
            Event(
                kind,
                self.state.id,
                self.now,
                node.id if node else None,
                node.type if node else None,
                node.lane if node else None,
                actor,
                token.id if token else None,
                data,
            )
        )

    # -- tokens -----------------------------------------------------------------------------
    def enter(
        self, node_id: str, scope: str, flow: str | None = None, data: dict[str, Any] | None = None
    ) -> Token:
        """Create a token at ``node_id`` now and queue its activation."""
        token = Token(self.next_id(), node_id, scope, "", flow, data)
        self.state.tokens[token.id] = token
        self.agenda.append(token.id)
        return token

    def drain(self) -> None:
        """Run queued activations until the instance waits; then settle joins and conditions."""
        from flowdesk.engine import propagation

        tokens = self.state.tokens
        while True:
            while self.agenda:
                token = tokens.get(self.agenda.popleft())
                if token is not None and token.wait == "":
                    self.guarded(token, self.activate)
            if not propagation.settle(self):
                break

    def guarded(self, token: Token, step: Any) -> None:
        """Run a step; an Incident parks the token and records why."""
        try:
            step(token)
        except Incident as exc:
            if token.id in self.state.tokens:
                if self.leaving is token:  # completed already: a retry only has to leave
                    token.data = {**(token.data or {}), "leave": 1}
                self.raise_incident(token, exc.message)
        finally:
            self.leaving = None

    def raise_incident(self, token: Token, message: str, job: str | None = None) -> None:
        token.wait = "incident"
        record = IncidentRecord(self.next_id(), token.el, token.id, message, job)
        self.state.incidents[record.id] = record
        self.emit(ev.INCIDENT_RAISED, self.nodes[token.el], token, {"message": message})

    def activate(self, token: Token) -> None:
        node = self.nodes[token.el]
        behaviour = self.engine.behaviour(node)
        data = token.data
        if not behaviour.own_activation:
            self.emit(ev.ELEMENT_ACTIVATED, node, token)
        if node.async_before and not (data and data.get("ab")):
            token.data = {**(data or {}), "ab": 1}
            token.wait = "async"
            self.add_job(Job(self.engine.new_id(), "async", node.id, token.id))
            return
        self.begin(token, node)

    def begin(self, token: Token, node: Node) -> None:
        inner = bool(token.data and token.data.get("inner"))
        if node.loop is not None and not inner:
            from flowdesk.engine.behaviours import loops

            if node.loop.kind == "multi":
                self.subscribe_boundaries(token, node)
                loops.start_multi_instance(self, token, node)
                return
            if node.loop.test_before and not loops.loop_again(self, token, node, first=True):
                self.leave(token, node)
                return
        if node.inputs:
            scope = self.state.scopes.get(token.id)
            if scope is None:
                scope = Scope(token.id, node.id, token.scope, "local")
                self.state.scopes[token.id] = scope
            for mapping in node.inputs:
                scope.vars[mapping.target] = self.eval(mapping.source, token.scope)
        if not inner:
            self.subscribe_boundaries(token, node)
        self.engine.behaviour(node).activate(self, token, node)

    def complete(self, token: Token) -> None:
        """The element of ``token`` finished its work: map outputs, then leave by its flows."""
        node = self.nodes[token.el]
        state = self.state
        if node.outputs:
            local = self.scope_of(token)
            values = [(m.target, self.eval(m.source, local)) for m in node.outputs]
            for target, value in values:
                self.set_var(token.scope, target, value)
        self.close_owned(token)
        own = state.scopes.pop(token.id, None)  # local variables die with the element ...
        self.emit(ev.ELEMENT_COMPLETED, node, token, actor=self.pop_actor(token))
        self.flush_changes(node)
        if node.id in self.comp.tracked or (own is not None and state.comp):
            from flowdesk.engine.behaviours import compensation

            compensation.completed(self, token, node, own)  # ... unless kept to compensate
        data = token.data
        if data:
            if data.get("inner"):
                self.remove(token)
                return
            if "comp" in data:
                from flowdesk.engine.behaviours import compensation

                compensation.handler_done(self, token)
                return
        if node.loop is not None and node.loop.kind == "standard":
            from flowdesk.engine.behaviours import loops

            if loops.loop_again(self, token, node, first=False):
                return
        if node.async_after and not (data and data.get("aa")):
            token.data = {**(data or {}), "aa": 1}
            token.wait = "async-after"
            self.add_job(Job(self.engine.new_id(), "async", node.id, token.id))
            return
        self.leaving = token
        self.leave(token, node)

    def pop_actor(self, token: Token) -> str | None:
        return self.actor if token.id == self.actor_token else None

    def leave(self, token: Token, node: Node) -> None:
        self.engine.behaviour(node).leave(self, token, node)

    def take(self, token: Token, flow_ids: list[str] | tuple[str, ...]) -> None:
        """Move ``token`` along ``flow_ids`` (none: the path ends here)."""
        scope = token.scope
        flows = self.process.flows
        for fid in flow_ids:
            self.enter(flows[fid].target, scope, fid)
        self.remove(token)

    def take_outgoing(self, token: Token, node: Node) -> None:
        """Default leaving: unconditional flows, plus conditional ones that hold, else default."""
        outgoing = node.outgoing
        if not outgoing:
            self.take(token, ())
            return
        flows = self.process.flows
        if all(flows[f].condition is None for f in outgoing) and node.default is None:
            self.take(token, outgoing)
            return
        chosen = []
        scope = token.scope
        for fid in outgoing:
            if fid == node.default:
                continue
            cond = flows[fid].condition
            if cond is None or self.condition(cond, scope):
                chosen.append(fid)
        if not chosen and node.default is not None:
            chosen.append(node.default)
        if not chosen:
            raise Incident(f"no outgoing sequence flow of '{node.id}' can be taken")
        self.take(token, chosen)

    def remove(self, token: Token) -> None:
        """Drop a token that left its element; completes its scope when it was the last one."""
        tokens = self.state.tokens
        tokens.pop(token.id, None)
        scope = token.scope
        for other in tokens.values():
            if other.scope == scope:
                return
        self.complete_scope(scope)

    def complete_scope(self, scope_id: str) -> None:
        state = self.state
        if scope_id == "":
            if state.status != "active":
                return
            self.close_scope_subscriptions("")
            if state.comp:
                from flowdesk.engine.behaviours import compensation

                compensation.instance_ended(self)
            state.status = "completed"
            state.ended = self.now_text
            self.emit(ev.PROCESS_COMPLETED, data={"process": state.process})
            from flowdesk.engine import propagation

            propagation.instance_completed(self)
            return
        scope = state.scopes.get(scope_id)
        if scope is None:
            return
        self.close_scope_subscriptions(scope_id)
        if scope.kind == "mi":
            from flowdesk.engine.behaviours import loops

            loops.iteration_done(self, scope)
            return
        owner = state.tokens.get(scope_id)
        if owner is not None:
            self.guarded(owner, self.complete)

    # -- termination ------------------------------------------------------------------------
    def terminate(self, token: Token) -> None:
        """Stop ``token`` and everything inside it, without leaving by its flows."""
        state = self.state
        inner_scopes = [s for s in state.scopes.values() if s.id == token.id or s.owner == token.id]
        for scope in inner_scopes:
            self.terminate_scope(scope.id)
            state.scopes.pop(scope.id, None)
        if state.comp or token.wait == "comp":
            from flowdesk.engine.behaviours import compensation

            if token.wait == "comp":
                compensation.stop_handlers(self, token)
            for scope in inner_scopes:
                compensation.discard(self, scope.id)  # an interrupted scope is not compensated
        self.close_owned(token)
        node = self.nodes[token.el]
        if token.wait == "call":
            self.result.calls_cancelled.append(token.id)
        for inc in [i for i in state.incidents.values() if i.token == token.id]:
            del state.incidents[inc.id]
        if not (token.data and token.data.get("thrown")):
            self.emit(ev.ELEMENT_TERMINATED, node, token)
        state.tokens.pop(token.id, None)

    def terminate_scope(self, scope_id: str, keep: str | None = None) -> None:
        for other in [t for t in self.state.tokens.values() if t.scope == scope_id]:
            if other.id != keep and other.id in self.state.tokens:
                self.terminate(other)
        self.close_scope_subscriptions(scope_id)

    def close_owned(self, token: Token) -> None:
        """Close the work item, jobs and subscriptions a token owns."""
        state = self.state
        if state.work:
            for item in [w for w in state.work.values() if w.token == token.id]:
                del state.work[item.id]
                self.result.work_items_closed.append(item.id)
        if state.jobs:
            for job in [j for j in state.jobs.values() if j.token == token.id]:
                self.remove_job(job.id)
        if state.subs:
            for sub in [s for s in state.subs.values() if s.owner == token.id]:
                self.remove_sub(sub.id)

    def close_scope_subscriptions(self, scope_id: str) -> None:
        """Event subprocess start subscriptions of a scope (owned by the scope id)."""
        for sub in [s for s in self.state.subs.values() if s.owner == f"scope:{scope_id}"]:
            self.remove_sub(sub.id)

    # -- jobs, work items, subscriptions ----------------------------------------------------
    def add_job(self, job: Job) -> None:
        self.state.jobs[job.id] = job
        self.result.jobs_created.append(job)

    def remove_job(self, job_id: str) -> None:
        if self.state.jobs.pop(job_id, None) is not None:
            self.result.jobs_removed.append(job_id)

    def remove_sub(self, sub_id: str) -> None:
        sub = self.state.subs.pop(sub_id, None)
        if sub is not None and sub.kind == "timer":
            self.remove_job(sub_id)

    def add_work_item(self, item: WorkItem) -> None:
        self.state.work[item.id] = item
        self.result.work_items_created.append(item)

    def subscribe(
        self, definition: EventDefinition, catcher: Node, owner: str, scope_id: str
    ) -> Subscription | None:
        """Open the subscription that will trigger ``catcher`` (owned by a token or scope)."""
        kind = definition.kind
        sub_id = self.engine.new_id()
        if kind == "message":
            key = self.value(
                definition.correlation_key and "=" + definition.correlation_key, scope_id
            )
            sub = Subscription(sub_id, "message", catcher.id, owner, definition.ref, key_text(key))
        elif kind == "signal":
            sub = Subscription(sub_id, "signal", catcher.id, owner, definition.ref)
        elif kind == "timer":
            # a FEEL value (=duration("PT0.25S"), =now() + ...) is a timer in its ISO 8601 form
            text = to_string(self.value(definition.value, scope_id))
            timer = definition.timer or "duration"
            try:
                due, left = first_due(timer, text, self.now)
            except ValueError as exc:
                raise Incident(f"timer of '{catcher.id}': {exc}") from exc
            sub = Subscription(
                sub_id,
                "timer",
                catcher.id,
                owner,
                due=due.isoformat(),
                cycle=text if timer == "cycle" else None,
                left=left,
            )
            self.add_job(Job(sub_id, "timer", catcher.id, owner, due=sub.due))
        elif kind == "conditional":
            sub = Subscription(sub_id, "conditional", catcher.id, owner, name=definition.value)
        else:
            return None
        self.state.subs[sub.id] = sub
        return sub

    def reschedule(self, sub: Subscription) -> None:
        """Re-arm a cycle timer after it fired, if repetitions remain."""
        if sub.cycle is None or sub.left == 0:
            return
        cycle = parse_cycle(sub.cycle)
        due = cycle.interval.add_to(datetime.fromisoformat(sub.due or self.now_text))
        left = None if sub.left is None else sub.left - 1
        new = Subscription(
            self.engine.new_id(),
            "timer",
            sub.el,
            sub.owner,
            due=due.isoformat(),
            cycle=sub.cycle,
            left=left,
        )
        self.state.subs[new.id] = new
        self.add_job(Job(new.id, "timer", sub.el, sub.owner, due=new.due))

    def subscribe_boundaries(self, token: Token, node: Node) -> None:
        for bid in self.process.boundaries.get(node.id, ()):
            boundary = self.nodes[bid]
            for definition in boundary.events:  # several: a multiple event, any one fires
                self.subscribe(definition, boundary, token.id, token.scope)

    def open_scope(self, token: Token, node: Node, kind: str) -> Scope:
        """Create the variable scope of a subprocess token and arm its event subprocesses."""
        scope = self.state.scopes.get(token.id)
        if scope is None:
            scope = Scope(token.id, node.id, token.scope, kind)
            self.state.scopes[token.id] = scope
        else:
            scope.kind = kind
        self.arm_event_subprocesses(node.id, token.id)
        return scope

    def arm_event_subprocesses(self, container: str, scope_id: str) -> None:
        for esp_id in self.process.event_subprocesses.get(container, ()):
            for start_id in self.process.start_events.get(esp_id, ()):
                start = self.nodes[start_id]
                for definition in start.events:  # several: a multiple start, any one fires
                    if definition.kind in ("message", "signal", "timer", "conditional"):
                        self.subscribe(definition, start, f"scope:{scope_id}", scope_id)
