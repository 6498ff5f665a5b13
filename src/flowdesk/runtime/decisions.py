"""DMN decisions deployed through ProcessRuntime.deploy, for business rule tasks and the API.

A decision is looked up by name or id in the deployed DMN resources, newest deployment first,
so redeploying a changed table takes effect for the next evaluation. Parsed models are cached
by the resource's sha256: an unchanged file deployed again is not parsed again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from flowdesk.core.clock import Clock
from flowdesk.core.errors import NotFoundError
from flowdesk.dmn import DecisionResult, DmnModel, load_model
from flowdesk.dmn.model import Decision
from flowdesk.dmn.tables import DecisionTable
from flowdesk.store import Store
from flowdesk.store.service_repo import dmn_resources, resource_content


class DeployedDecisions:
    """A DecisionEvaluator (see flowdesk.engine.engine) over the store's DMN resources."""

    def __init__(self, store: Store, *, clock: Clock | None = None, cache_size: int = 256):
        self.store = store
        self.clock = clock
        self.cache_size = cache_size
        self._models: dict[str, DmnModel] = {}
        self._lock = threading.Lock()
        self._local = threading.local()  # the runtime's transaction, while a command runs

    @contextmanager
    def within(self, connection: Any) -> Iterator[None]:
        """Read the deployed DMN through the command's own transaction while it runs (a
        business rule task inside a command must not open a second one: on an in-memory
        SQLite both are the same connection, "cannot start a transaction within a
        transaction")."""
        previous = getattr(self._local, "conn", None)
        self._local.conn = connection
        try:
            yield
        finally:
            self._local.conn = previous

    def _model(self, resource_id: str, sha256: str) -> DmnModel:
        with self._lock:
            cached = self._models.get(sha256)
        if cached is not None:
            return cached
        text = resource_content(self.store, resource_id, getattr(self._local, "conn", None))
        if text is None:
            raise NotFoundError(f"DMN resource {resource_id!r} disappeared")
        model = load_model(text)
        with self._lock:
            if len(self._models) >= self.cache_size:
                self._models.pop(next(iter(self._models)))
            self._models[sha256] = model
        return model

    def find(self, decision: str) -> tuple[DmnModel, Decision]:
        """The newest deployed decision with this name or id."""
        for resource in dmn_resources(self.store, getattr(self._local, "conn", None)):
            model = self._model(resource.id, resource.sha256)
            for candidate in model.main.elements.values():
                if isinstance(candidate, Decision) and decision in (candidate.id, candidate.name):
                    return model, candidate
        raise NotFoundError(
            f"no deployed decision named or with id {decision!r}",
            hint="deploy the DMN file that defines it",
        )

    def evaluate_result(self, decision: str, inputs: Mapping[str, Any]) -> DecisionResult:
        """The decision's FEEL value and diagnostics (what the REST API returns)."""
        model, element = self.find(decision)
        return model.evaluate(element.id, inputs, clock=self.clock)

    def evaluate(self, decision: str, variables: Mapping[str, Any]) -> Any:
        """For business rule tasks: the result as Camunda 7 shapes it, a list of rule results
        (each a dict of output name to value), which mapDecisionResult then narrows."""
        model, element = self.find(decision)
        value = model.evaluate(element.id, variables, clock=self.clock).value
        return camunda_rows(element, value)


def camunda_rows(decision: Decision, value: Any) -> list[dict[str, Any]]:
    table = decision.expression if isinstance(decision.expression, DecisionTable) else None
    name = decision.name
    if table is not None and table.single_output and table.outputs[0].name:
        name = table.outputs[0].name
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list) and table is not None:
        return [v if isinstance(v, dict) else {name: v} for v in value]
    return [{name: value}]
