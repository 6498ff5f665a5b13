"""Business rule tasks: evaluate a DMN decision through the injected DecisionEvaluator."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowdesk.bpmn.model import Node
from flowdesk.engine.behaviours.base import Behaviour
from flowdesk.engine.behaviours.service_task import run_service
from flowdesk.engine.errors import Incident
from flowdesk.engine.state import Token

if TYPE_CHECKING:
    from flowdesk.engine.run import Run


def map_result(result: Any, mapping: str | None) -> Any:
    """Camunda 7 mapDecisionResult. Works on a list of rule outputs (dicts, Camunda's shape) and
    on the DMN-native value flowdesk.dmn returns (scalar for one output, context for several,
    list for COLLECT)."""
    if mapping is None:
        return result
    rows = result if isinstance(result, list) else ([] if result is None else [result])
    if mapping == "resultList":
        return rows
    if mapping == "collectEntries":
        if any(isinstance(r, dict) and len(r) != 1 for r in rows):
            raise Incident("collectEntries needs exactly one output per rule")
        return [next(iter(r.values())) if isinstance(r, dict) else r for r in rows]
    if mapping in ("singleResult", "singleEntry"):
        if len(rows) > 1:
            raise Incident(f"decision returned {len(rows)} results, {mapping} expects one")
        row = rows[0] if rows else None
        if mapping == "singleEntry" and isinstance(row, dict):
            if len(row) != 1:
                raise Incident("singleEntry needs one rule result with one output")
            return next(iter(row.values()))
        return row
    raise Incident(f"unknown mapDecisionResult '{mapping}'")


class BusinessRuleTask(Behaviour):
    def activate(self, run: Run, token: Token, node: Node) -> None:
        spec = node.task
        if spec is not None and spec.decision_ref is None and run_service(run, token, node):
            return
        assert spec is not None and spec.decision_ref is not None
        evaluator = run.engine.decisions
        if evaluator is None:
            raise Incident(
                f"DMN is not available: businessRuleTask '{node.id}' needs a DecisionEvaluator "
                "(pass decisions=... to Engine)"
            )
        scope = run.scope_of(token)
        decision = str(run.value(spec.decision_ref, scope))
        try:
            result = evaluator.evaluate(decision, run.view(scope))
        except Exception as exc:
            raise Incident(f"decision '{decision}' failed: {exc}") from exc
        value = map_result(result, spec.map_decision_result)
        if spec.result_variable:
            run.set_var(token.scope, spec.result_variable, value)
        run.complete(token)
