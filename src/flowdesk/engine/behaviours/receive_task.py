"""Receive tasks wait for a correlated message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowdesk.bpmn.model import EventDefinition, Node
from flowdesk.engine.behaviours.base import Behaviour
from flowdesk.engine.state import Token

if TYPE_CHECKING:
    from flowdesk.engine.run import Run


class ReceiveTask(Behaviour):
    def activate(self, run: Run, token: Token, node: Node) -> None:
        if token.data and token.data.get("fired"):
            run.complete(token)  # already triggered through an event-based gateway
            return
        spec = node.task
        assert spec is not None and spec.message is not None  # guaranteed by validation
        key = spec.correlation_key[1:] if spec.correlation_key else None
        definition = EventDefinition("message", ref=spec.message, correlation_key=key)
        token.wait = "event"
        run.subscribe(definition, node, token.id, run.scope_of(token))
