"""Start, end, intermediate catch/throw and boundary events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowdesk.bpmn.model import Node
from flowdesk.engine import events as ev
from flowdesk.engine.behaviours.base import Behaviour
from flowdesk.engine.errors import Incident
from flowdesk.engine.state import Subscription, Token

if TYPE_CHECKING:
    from flowdesk.engine.run import Run


def throw(run: Run, token: Token, node: Node) -> bool:
    """Do what a throwing event does. False when the token no longer exists afterwards or
    must wait (error, escalation caught by an interrupting handler, compensation running)."""
    definition = node.event
    if definition is None:
        return True
    kind = definition.kind
    from flowdesk.engine import propagation

    if kind == "message":
        key = definition.correlation_key
        propagation.throw_message(run, token, definition.ref or "", "=" + key if key else None)
    elif kind == "signal":
        propagation.throw_signal(run, token, definition.ref or "")
        return token.id in run.state.tokens  # an interrupting catcher may have ended it
    elif kind == "error":
        run.emit(ev.ELEMENT_COMPLETED, node, token)  # the event happened; its scope is what ends
        token.data = {**(token.data or {}), "thrown": 1}
        propagation.throw_error(run, token, definition.ref, None, {})
        return False
    elif kind == "escalation":
        propagation.throw_escalation(run, token, definition.ref)
        return token.id in run.state.tokens
    elif kind == "compensate":
        from flowdesk.engine.behaviours import compensation

        return compensation.throw(run, token, node, definition.ref)
    elif kind == "cancel":
        from flowdesk.engine.behaviours import compensation

        # BPMN 10.5.3 (Cancel): the transaction is rolled back -- what completed inside it is
        # compensated -- then its cancel boundary event is taken.
        token.data = {**(token.data or {}), "cancel": 1}
        if compensation.throw(run, token, node, None):
            propagation.cancel_transaction(run, token)
        return False
    return True


class StartEvent(Behaviour):
    """Start events fire when their token is created (the trigger happened before)."""


class EndEvent(Behaviour):
    def activate(self, run: Run, token: Token, node: Node) -> None:
        kind = node.event_kind
        if kind == "terminate":
            run.terminate_scope(token.scope, keep=token.id)
            run.complete(token)
            return
        if throw(run, token, node):
            run.complete(token)


class IntermediateThrowEvent(Behaviour):
    def activate(self, run: Run, token: Token, node: Node) -> None:
        if throw(run, token, node):
            run.complete(token)

    def leave(self, run: Run, token: Token, node: Node) -> None:
        if node.event_kind == "link":
            target = run.process.link_targets[(node.scope, node.event.ref or "")]  # type: ignore[union-attr]
            run.enter(target, token.scope)
            run.remove(token)
            return
        run.take_outgoing(token, node)


class IntermediateCatchEvent(Behaviour):
    def activate(self, run: Run, token: Token, node: Node) -> None:
        definition = node.event
        if token.data and token.data.get("fired") or definition is None:
            run.complete(token)
            return
        if definition.kind == "link":
            run.complete(token)
            return
        if any(d.kind == "conditional" and _holds(run, d.value, token) for d in node.events):
            run.complete(token)
            return
        token.wait = "event"
        for each in node.events:  # several: a multiple event waits for any one of them
            run.subscribe(each, node, token.id, run.scope_of(token))

    def trigger(
        self, run: Run, token: Token, node: Node, sub: Subscription, variables: dict[str, Any]
    ) -> None:
        if node.parallel_multiple:  # BPMN 10.5.1: "all of the triggers are required"
            run.remove_sub(sub.id)
            run.set_vars(token.scope, variables)
            if any(s.owner == token.id for s in run.state.subs.values()):
                return
        super().trigger(run, token, node, sub, variables)


class BoundaryEvent(Behaviour):
    """Entered only after it was triggered; passes through to its outgoing flows."""


def _holds(run: Run, condition: str | None, token: Token) -> bool:
    """Whether a conditional event's condition is true now. One that cannot be evaluated yet
    (a variable not set) is false: BPMN 2.0 10.5.4 has the event wait until the condition
    becomes true, which is checked again whenever variables change."""
    try:
        return run.condition(condition or "false", run.scope_of(token))
    except Incident:
        return False
