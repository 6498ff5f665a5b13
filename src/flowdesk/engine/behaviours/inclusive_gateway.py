"""Inclusive gateway: split on every true condition (else default); the join waits while any
other token of the same scope can still reach it (the usual OR-join reachability rule)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowdesk.bpmn.model import Node
from flowdesk.engine import events as ev
from flowdesk.engine.behaviours.base import Behaviour
from flowdesk.engine.errors import Incident
from flowdesk.engine.state import Token

if TYPE_CHECKING:
    from flowdesk.engine.run import Run


class InclusiveGateway(Behaviour):
    own_activation = True

    def activate(self, run: Run, token: Token, node: Node) -> None:
        if len(node.incoming) <= 1:
            run.emit(ev.ELEMENT_ACTIVATED, node, token)
            run.complete(token)
            return
        token.wait = "ijoin"  # settled by try_join once nothing else can arrive

    def leave(self, run: Run, token: Token, node: Node) -> None:
        flows = run.process.flows
        chosen = [
            fid
            for fid in node.outgoing
            if fid != node.default
            and (
                flows[fid].condition is None
                or run.condition(flows[fid].condition or "", token.scope)
            )
        ]
        if not chosen and node.default is not None:
            chosen = [node.default]
        if not chosen:
            raise Incident(
                f"no condition of inclusiveGateway '{node.id}' is true and it has no default flow"
            )
        run.take(token, chosen)


def try_join(run: Run, token: Token) -> bool:
    """Fire a waiting inclusive join if no other token can still reach it. True if fired."""
    node = run.nodes[token.el]
    upstream = run.engine.upstream(run.process, node.id)
    waiting: list[Token] = []
    for other in run.state.tokens.values():
        if other.scope != token.scope:
            continue
        if other.el == node.id and other.wait == "ijoin":
            waiting.append(other)
        elif other.el in upstream:
            return False
    seen: set[str | None] = set()
    for other in waiting:  # one token per incoming flow merges into the firing one
        if other is not token and other.flow not in seen and other.flow != token.flow:
            seen.add(other.flow)
            del run.state.tokens[other.id]
    token.wait = ""
    run.emit(ev.ELEMENT_ACTIVATED, node, token)
    run.guarded(token, run.complete)
    return True
