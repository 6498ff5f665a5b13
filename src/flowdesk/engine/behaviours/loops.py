"""Multi-instance (parallel/sequential, collection or cardinality, completion condition, output
collection) and standard loops. The multi-instance body is a token; each iteration is a scope
holding the element variable and loopCounter, with an inner token at the same element."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flowdesk.bpmn.model import Node
from flowdesk.engine.errors import Incident
from flowdesk.engine.state import Scope, Token

if TYPE_CHECKING:
    from flowdesk.engine.run import Run


def start_multi_instance(run: Run, body: Token, node: Node) -> None:
    loop = node.loop
    assert loop is not None
    scope = run.scope_of(body)
    items: list[Any] | None = None
    if loop.collection is not None:
        value = run.eval(loop.collection, scope)
        if not isinstance(value, list):
            raise Incident(f"multi-instance collection of '{node.id}' is not a list: {value!r}")
        items = value
        count = len(value)
    else:
        raw = run.eval(loop.cardinality or "0", scope)
        if isinstance(raw, bool) or not isinstance(raw, int | Decimal | float) or raw < 0:
            raise Incident(f"loop cardinality of '{node.id}' is not a count: {raw!r}")
        count = int(raw)
    body.wait = "mi"
    data: dict[str, Any] = {"n": count, "done": 0, "next": 0}
    if items is not None:
        data["items"] = list(items)
    if loop.output_collection:
        data["out"] = [None] * count
    body.data = {**(body.data or {}), **data}
    if count == 0:
        _finish(run, body, node)
        return
    for _ in range(1 if loop.sequential else count):
        _start_iteration(run, body, node)


def _start_iteration(run: Run, body: Token, node: Node) -> None:
    loop = node.loop
    assert loop is not None and body.data is not None
    index = int(body.data["next"])
    body.data["next"] = index + 1
    scope = Scope(run.next_id(), node.id, run.scope_of(body), "mi", owner=body.id)
    scope.vars["loopCounter"] = index + 1
    items = body.data.get("items")
    if items is not None and loop.element_variable:
        scope.vars[loop.element_variable] = items[index]
    run.state.scopes[scope.id] = scope
    run.enter(node.id, scope.id, data={"inner": 1})


def iteration_done(run: Run, scope: Scope) -> None:
    """An iteration's scope emptied: collect its output, then continue, finish or wait."""
    state = run.state
    body = state.tokens.get(scope.owner or "")
    state.scopes.pop(scope.id, None)
    if body is None or body.data is None:
        return
    node = run.nodes[body.el]
    loop = node.loop
    assert loop is not None
    data = body.data
    index = int(scope.vars.get("loopCounter", 1)) - 1
    if loop.output_collection and loop.output_element:
        state.scopes[scope.id] = scope  # evaluate with the iteration's variables visible
        try:
            data["out"][index] = run.eval(loop.output_element, scope.id)
        finally:
            state.scopes.pop(scope.id, None)
    if state.comp:
        from flowdesk.engine.behaviours import compensation

        compensation.iteration_done(run, body, scope)
    data["done"] = int(data["done"]) + 1
    total = int(data["n"])
    active = sum(1 for s in state.scopes.values() if s.kind == "mi" and s.owner == body.id)
    finished = data["done"] >= total
    if not finished and loop.completion_condition:
        extra = {
            "nrOfInstances": total,
            "nrOfCompletedInstances": data["done"],
            "nrOfActiveInstances": active,
        }
        finished = run.eval(loop.completion_condition, run.scope_of(body), extra) is True
    if finished:
        for other in [s for s in state.scopes.values() if s.kind == "mi" and s.owner == body.id]:
            run.terminate_scope(other.id)
            state.scopes.pop(other.id, None)
            if state.comp:
                from flowdesk.engine.behaviours import compensation

                compensation.discard(run, other.id)  # cut short: nothing in it to compensate
        _finish(run, body, node)
    elif loop.sequential and data["next"] < total:
        _start_iteration(run, body, node)


def _finish(run: Run, body: Token, node: Node) -> None:
    loop = node.loop
    assert loop is not None and body.data is not None
    if loop.output_collection:
        run.set_var(body.scope, loop.output_collection, list(body.data.get("out", [])))
    for key in ("n", "done", "next", "items", "out"):
        body.data.pop(key, None)
    body.wait = ""
    run.guarded(body, run.complete)


def loop_again(run: Run, token: Token, node: Node, *, first: bool) -> bool:
    """Standard loop: decide whether to run the element (again). On completion, restarts it."""
    loop = node.loop
    assert loop is not None
    count = int((token.data or {}).get("loops", 0)) + (0 if first else 1)
    if loop.loop_maximum is not None and count >= loop.loop_maximum:
        return False
    scope = run.scope_of(token)
    if loop.loop_condition is not None:
        holds = run.eval(loop.loop_condition, scope, {"loopCounter": count}) is True
        if not holds:
            return False
    if first:
        return True
    run.state.tokens.pop(token.id, None)
    run.enter(node.id, token.scope, token.flow, data={"loops": count})
    return True
