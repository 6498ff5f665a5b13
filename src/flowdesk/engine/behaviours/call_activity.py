"""Call activity: ask the runtime to start a child instance and wait for its outcome."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowdesk.bpmn.model import Node
from flowdesk.engine.behaviours.base import Behaviour
from flowdesk.engine.events import CallRequest
from flowdesk.engine.state import Token

if TYPE_CHECKING:
    from flowdesk.engine.run import Run


class CallActivity(Behaviour):
    def activate(self, run: Run, token: Token, node: Node) -> None:
        spec = node.task
        assert spec is not None and spec.called_element is not None
        scope = run.scope_of(token)
        key = str(run.value(spec.called_element, scope))
        view = run.view(scope)
        if node.inputs:  # explicit mappings: only the mapped (local) variables go down
            local = run.state.scopes[token.id].vars
            variables = dict(local)
        else:
            variables = {k: view[k] for k in view}
        token.wait = "call"
        run.result.calls.append(
            CallRequest(key, variables, run.state.id, token.id, run.state.business_key)
        )
