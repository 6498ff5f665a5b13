"""Parallel gateway: fork on every outgoing flow; join when a token waits on every incoming."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowdesk.bpmn.model import Node
from flowdesk.engine import events as ev
from flowdesk.engine.behaviours.base import Behaviour
from flowdesk.engine.state import Token

if TYPE_CHECKING:
    from flowdesk.engine.run import Run


class ParallelGateway(Behaviour):
    own_activation = True

    def activate(self, run: Run, token: Token, node: Node) -> None:
        if len(node.incoming) <= 1:
            run.emit(ev.ELEMENT_ACTIVATED, node, token)
            run.complete(token)
            return
        token.wait = "join"
        waiting: dict[str, Token] = {}
        for other in run.state.tokens.values():
            if (
                other.el == node.id
                and other.scope == token.scope
                and other.wait == "join"
                and other.flow not in waiting
                and other.flow is not None
            ):
                waiting[other.flow] = other
        if len(waiting) < len(set(node.incoming)):
            return
        for other in waiting.values():  # merge: one token per incoming flow is consumed
            if other is not token:
                del run.state.tokens[other.id]
        token.wait = ""
        run.emit(ev.ELEMENT_ACTIVATED, node, token)
        run.complete(token)

    def leave(self, run: Run, token: Token, node: Node) -> None:
        run.take(token, node.outgoing)
