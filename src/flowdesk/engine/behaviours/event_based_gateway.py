"""Event-based gateway: subscribe to every following catch event; the first to fire wins."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowdesk.bpmn.model import EventDefinition, Node
from flowdesk.engine import events as ev
from flowdesk.engine.behaviours.base import Behaviour
from flowdesk.engine.state import Subscription, Token

if TYPE_CHECKING:
    from flowdesk.engine.run import Run


class EventBasedGateway(Behaviour):
    def activate(self, run: Run, token: Token, node: Node) -> None:
        token.wait = "event"
        scope = run.scope_of(token)
        for fid in node.outgoing:
            target = run.nodes[run.process.flows[fid].target]
            definition = target.event
            if target.type == "receiveTask" and target.task and target.task.message:
                key = target.task.correlation_key
                definition = EventDefinition(
                    "message", ref=target.task.message, correlation_key=key[1:] if key else None
                )
            if definition is not None:
                run.subscribe(definition, target, token.id, scope)

    def trigger(
        self, run: Run, token: Token, node: Node, sub: Subscription, variables: dict[str, Any]
    ) -> None:
        run.close_owned(token)
        run.set_vars(token.scope, variables)
        flow = next(f for f in node.outgoing if run.process.flows[f].target == sub.el)
        token.wait = ""
        run.emit(ev.ELEMENT_COMPLETED, node, token)
        run.enter(sub.el, token.scope, flow, {"fired": 1})
        run.remove(token)
