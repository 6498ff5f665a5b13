"""Service-like tasks: a registered Python handler runs synchronously, otherwise an external
task job waits for a worker (fetch-and-lock). Send tasks without a job type throw a message."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowdesk.bpmn.model import Node
from flowdesk.engine.behaviours.base import Behaviour
from flowdesk.engine.errors import BpmnError, Incident
from flowdesk.engine.state import Job, Token

if TYPE_CHECKING:
    from flowdesk.engine.run import Run


def run_service(run: Run, token: Token, node: Node) -> bool:
    """Call the handler or open an external job. False when the task has no implementation."""
    spec = node.task
    if spec is None or (spec.topic is None and spec.handler is None and spec.connector is None):
        return False
    if spec.connector is not None and spec.connector.inputs:
        _connector_inputs(run, token, node)
    scope = run.scope_of(token)
    if spec.connector is not None:
        topic: Any = spec.connector.id  # a connector worker serves it, as an external task
    else:
        topic = run.value(spec.topic, scope) if spec.topic is not None else None
    name = spec.handler if spec.handler is not None else str(topic)
    handler = run.engine.handlers.get(name)
    if handler is None and spec.handler is not None:
        raise Incident(f"no handler registered for '{spec.handler}'")
    if handler is not None:
        from flowdesk.engine import propagation
        from flowdesk.engine.registry import ServiceCall

        call = ServiceCall(run.state.id, node.id, name, run.view(scope), run.state.business_key)
        try:
            output: Any = handler(call)
        except BpmnError as exc:
            propagation.throw_error(run, token, exc.code, exc.message, exc.variables)
            return True
        except Exception as exc:  # a failing integration becomes an incident, not a crash
            raise Incident(f"handler '{name}' failed: {exc}") from exc
        if output:
            run.set_vars(token.scope, dict(output))
        run.complete(token)
        return True
    token.wait = "external"
    retries = spec.retries if spec.retries is not None else 3
    run.add_job(
        Job(
            run.engine.new_id(),
            "external",
            node.id,
            token.id,
            topic=str(topic),
            retries=retries,
            due=run.now_text,
        )
    )
    return True


def _connector_inputs(run: Run, token: Token, node: Node) -> None:
    """A camunda:connector's inputs become the task's local variables (the connector worker
    reads them with the task; they leave with the task and are not written to the event log)."""
    from flowdesk.engine.state import Scope

    assert node.task is not None and node.task.connector is not None
    scope = run.state.scopes.get(token.id)
    if scope is None:
        scope = Scope(token.id, node.id, token.scope, "local")
        run.state.scopes[token.id] = scope
    values = {m.target: run.eval(m.source, token.id) for m in node.task.connector.inputs}
    scope.vars.update(values)


class ServiceTask(Behaviour):
    def activate(self, run: Run, token: Token, node: Node) -> None:
        if not run_service(run, token, node):
            raise Incident(f"serviceTask '{node.id}' has no implementation")


class SendTask(Behaviour):
    def activate(self, run: Run, token: Token, node: Node) -> None:
        if run_service(run, token, node):
            return
        spec = node.task
        if spec is not None and spec.message is not None:
            from flowdesk.engine import propagation

            propagation.throw_message(run, token, spec.message, spec.correlation_key)
        run.complete(token)
