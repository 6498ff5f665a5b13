"""Basic compensation: a compensation throw runs the handlers of completed activities of its
scope (most recent first) and waits until they are done."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowdesk.bpmn.model import Node
from flowdesk.engine.state import Token

if TYPE_CHECKING:
    from flowdesk.engine.run import Run


def throw(run: Run, token: Token, node: Node, activity: str | None) -> bool:
    """Start the handlers; True when there is nothing to wait for."""
    state = run.state
    started = 0
    remaining: list[list[str]] = []
    target = token.scope
    enclosing = state.scopes.get(target)
    if enclosing is not None and enclosing.kind == "esp":
        target = enclosing.parent  # an event subprocess compensates the scope it belongs to
    for entry in reversed(state.comp):
        element, scope = entry
        if scope != target or (activity is not None and element != activity):
            remaining.append(entry)
            continue
        for bid in run.process.boundaries.get(element, ()):
            boundary = run.nodes[bid]
            if boundary.event_kind == "compensate" and boundary.compensation_handler:
                run.enter(boundary.compensation_handler, scope, data={"comp": token.id})
                started += 1
    state.comp = list(reversed(remaining))
    if started == 0:
        return True
    token.wait = "comp"
    token.data = {**(token.data or {}), "pending": started}
    return False


def handler_done(run: Run, handler: Token) -> None:
    thrower_id = str((handler.data or {})["comp"])
    run.state.tokens.pop(handler.id, None)
    thrower = run.state.tokens.get(thrower_id)
    if thrower is None:
        return
    data = thrower.data or {}
    data["pending"] = int(data.get("pending", 1)) - 1
    thrower.data = data
    if data["pending"] <= 0:
        thrower.wait = ""
        del data["pending"]
        run.guarded(thrower, run.complete)
