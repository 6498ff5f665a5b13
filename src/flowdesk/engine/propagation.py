"""How triggers and thrown events travel: subscriptions firing into boundary events, event
subprocesses and waiting tokens; errors and escalations searched from the throwing token
outwards (boundary events first, then event subprocesses of each enclosing scope); inclusive
joins and conditional events settled once nothing else can move."""

from __future__ import annotations

import dataclasses
from typing import Any

from flowdesk.bpmn.model import Node
from flowdesk.engine import events as ev
from flowdesk.engine.behaviours.inclusive_gateway import try_join
from flowdesk.engine.errors import Incident
from flowdesk.engine.events import CallOutcome, ThrownMessage, ThrownSignal
from flowdesk.engine.run import Run
from flowdesk.engine.state import Subscription, Token
from flowdesk.engine.variables import key_text


def trigger(run: Run, sub: Subscription, variables: dict[str, Any]) -> None:
    """A subscription fired: route it to its boundary, event subprocess or waiting token."""
    node = run.nodes[sub.el]
    if sub.owner.startswith("scope:"):
        _start_event_subprocess(run, sub.owner[6:], node, sub, variables)
        return
    owner = run.state.tokens[sub.owner]
    if node.type == "boundaryEvent":
        if node.parallel_multiple:
            # 10.5.1: "all of the triggers are required": each is consumed as it comes; the
            # boundary fires once the last of them arrived while the activity still runs
            run.remove_sub(sub.id)
            run.set_vars(owner.scope, variables)
            if any(s.owner == sub.owner and s.el == node.id for s in run.state.subs.values()):
                return
            variables = {}
            if node.cancel_activity:
                run.terminate(owner)
        elif node.cancel_activity:
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
        lambda t: run.engine.behaviour(owner_node).trigger(run, t, owner_node, sub, variables),
    )


def _start_event_subprocess(
    run: Run, scope_id: str, start: Node, sub: Subscription, variables: dict[str, Any]
) -> None:
    if start.cancel_activity:
        run.terminate_scope(scope_id)
    elif sub.kind == "timer":
        run.remove_sub(sub.id)
        run.reschedule(sub)
    run.set_vars(scope_id, variables)
    run.flush_changes(start)
    run.enter(start.scope, scope_id, data={"start": start.id})


def settle(run: Run) -> bool:
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
            trigger(run, state.subs[sub.id], {})
            return True
    return False


def throw_message(run: Run, token: Token, name: str, key_expr: str | None) -> None:
    scope = run.scope_of(token)
    key = key_text(run.value(key_expr, scope)) if key_expr else None
    local = run.state.scopes.get(token.id)
    payload = dict(local.vars) if local is not None else {}
    run.result.messages.append(ThrownMessage(name, key, payload, run.state.id, token.el))


def throw_signal(run: Run, token: Token, name: str) -> None:
    """Broadcast to every instance (the runtime delivers to the others after the command) and,
    here and now, to this instance's own catchers: it is still running when the signal is
    thrown, even if the thrower's next step ends it (BPMN 10.5.1: a signal reaches "any
    Process ... that can receive it", its own event sub-processes included)."""
    local = run.state.scopes.get(token.id)
    payload = dict(local.vars) if local is not None else {}
    run.result.signals.append(ThrownSignal(name, payload, run.state.id, token.el))
    for sub_id in [s.id for s in run.state.subs.values() if s.kind == "signal" and s.name == name]:
        sub = run.state.subs.get(sub_id)
        if sub is not None:
            trigger(run, sub, dict(payload))


def throw_error(
    run: Run,
    token: Token,
    code: str | None,
    message: str | None,
    variables: dict[str, Any],
) -> None:
    """Find the nearest error boundary / error event subprocess from ``token`` outwards."""
    if _catch(run, token, "error", code, variables):
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


def throw_escalation(run: Run, token: Token, code: str | None) -> None:
    """Escalations are non-critical: uncaught in a child instance they go up to the parent's
    call activity (CommandResult.escalations); uncaught at the top they are just recorded."""
    if _catch(run, token, "escalation", code, {}):
        return
    parent = run.state.parent
    if parent:
        run.result.escalations.append(CallOutcome(parent[0], parent[1], None, code or ""))
    else:
        run.emit(ev.ESCALATION_UNCAUGHT, run.nodes[token.el], token, {"code": code})


def cancel_transaction(run: Run, token: Token) -> None:
    """A cancel end event's rollback is done: the transaction ends through its cancel boundary
    event (BPMN 10.5.3: "the Cancel Event ... MUST be attached to the Transaction")."""
    node = run.nodes[token.el]
    run.emit(ev.ELEMENT_COMPLETED, node, token)
    token.data = {**(token.data or {}), "thrown": 1}
    if not _catch(run, token, "cancel", None, {}):
        raise Incident(f"cancel end event '{node.id}' has no transaction with a cancel boundary")


def _catch(run: Run, token: Token, kind: str, code: str | None, variables: dict[str, Any]) -> bool:
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


def instance_completed(run: Run) -> None:
    state = run.state
    for job_id in list(state.jobs):
        run.remove_job(job_id)
    if state.parent:
        run.result.call_outcome = CallOutcome(state.parent[0], state.parent[1], dict(state.vars))
