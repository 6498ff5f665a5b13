"""Script tasks: one FEEL expression, its value stored in the result variable."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowdesk.bpmn.model import Node
from flowdesk.engine.behaviours.base import Behaviour
from flowdesk.engine.state import Token

if TYPE_CHECKING:
    from flowdesk.engine.run import Run


class ScriptTask(Behaviour):
    def activate(self, run: Run, token: Token, node: Node) -> None:
        spec = node.task
        if spec is not None and spec.script is not None:
            value = run.eval(spec.script, run.scope_of(token))
            if spec.result_variable:
                run.set_var(token.scope, spec.result_variable, value)
        run.complete(token)
