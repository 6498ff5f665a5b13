"""The behaviour protocol: what one element kind does on activation, leaving and triggering."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowdesk.bpmn.model import Node
from flowdesk.engine.state import Subscription, Token

if TYPE_CHECKING:
    from flowdesk.engine.run import Run


class Behaviour:
    """Default: pass through (activate completes at once; leave takes the outgoing flows)."""

    #: True when the behaviour emits its own element_activated (joins emit once per firing).
    own_activation = False

    def activate(self, run: Run, token: Token, node: Node) -> None:
        run.complete(token)

    def leave(self, run: Run, token: Token, node: Node) -> None:
        run.take_outgoing(token, node)

    def trigger(
        self, run: Run, token: Token, node: Node, sub: Subscription, variables: dict[str, Any]
    ) -> None:
        """A subscription owned by this waiting token fired (message, timer, signal ...)."""
        run.close_owned(token)
        run.set_vars(token.scope, variables)
        token.wait = ""
        run.complete(token)
