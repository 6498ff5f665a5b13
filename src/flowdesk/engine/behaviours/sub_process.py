"""Embedded subprocesses and event subprocesses: a token that owns a variable scope."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowdesk.bpmn.model import Node
from flowdesk.engine.behaviours.base import Behaviour
from flowdesk.engine.errors import Incident
from flowdesk.engine.state import Token

if TYPE_CHECKING:
    from flowdesk.engine.run import Run


class SubProcess(Behaviour):
    def activate(self, run: Run, token: Token, node: Node) -> None:
        token.wait = "scope"
        if node.triggered_by_event:
            run.open_scope(token, node, "esp")
            start = (token.data or {}).get("start")
            if start is None:
                raise Incident(f"event subProcess '{node.id}' started without its start event")
            run.enter(str(start), token.id)
            return
        run.open_scope(token, node, "sub")
        start_id = run.process.none_start(node.id)
        if start_id is None:
            raise Incident(f"subProcess '{node.id}' has no plain start event")
        run.enter(start_id, token.id)
