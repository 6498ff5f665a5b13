"""Exclusive gateway: the first true condition in document order, else the default flow."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowdesk.bpmn.model import Node
from flowdesk.engine.behaviours.base import Behaviour
from flowdesk.engine.errors import Incident
from flowdesk.engine.state import Token

if TYPE_CHECKING:
    from flowdesk.engine.run import Run


class ExclusiveGateway(Behaviour):
    def leave(self, run: Run, token: Token, node: Node) -> None:
        outgoing = node.outgoing
        flows = run.process.flows
        if len(outgoing) == 1 and node.default is None and flows[outgoing[0]].condition is None:
            run.take(token, outgoing)
            return
        for fid in outgoing:
            if fid == node.default:
                continue
            cond = flows[fid].condition
            if cond is None or run.condition(cond, token.scope):
                run.take(token, (fid,))
                return
        if node.default is not None:
            run.take(token, (node.default,))
            return
        raise Incident(
            f"no condition of exclusiveGateway '{node.id}' is true and it has no default flow"
        )
