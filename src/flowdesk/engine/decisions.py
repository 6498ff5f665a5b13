"""A DecisionEvaluator over flowdesk.dmn models, for business rule tasks.

The engine only knows the DecisionEvaluator protocol (so the runtime can cache models per
deployment); this adapter is the ready-made one: decisions are found by name or id across the
given models, and a decision that fails (null with diagnostics) becomes an incident.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowdesk.core.clock import Clock
from flowdesk.core.errors import NotFoundError
from flowdesk.dmn import DmnModel


class DecisionFailed(Exception):
    """The decision evaluated to null with diagnostics."""


class DmnDecisions:
    def __init__(self, *models: DmnModel, clock: Clock | None = None) -> None:
        self.models = models
        self.clock = clock

    def evaluate(self, decision: str, variables: Mapping[str, Any]) -> Any:
        inputs = {name: variables[name] for name in variables}
        for model in self.models:
            try:
                result = model.evaluate(decision, inputs, clock=self.clock)
            except NotFoundError:
                continue
            if result.value is None and result.diagnostics:
                messages = "; ".join(d.message for d in result.diagnostics)
                raise DecisionFailed(f"decision '{decision}': {messages}")
            return result.value
        raise DecisionFailed(f"no deployed DMN model has a decision '{decision}'")
