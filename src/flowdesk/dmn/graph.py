"""Evaluation of the decision requirements graph: each element's value computed once.

A decision sees exactly what it requires (information and knowledge requirements), by name;
an element of an imported model is seen as `importName.elementName` (a context entry under
the import name). BKMs and decision services are function values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flowdesk.core.clock import Clock, SystemClock
from flowdesk.dmn.boxed import BoxedFunction, Scope
from flowdesk.feel import values
from flowdesk.feel.runtime import Env, FeelFunction

if TYPE_CHECKING:
    from flowdesk.dmn.model import (
        DecisionService,
        DmnModel,
        Element,
        InputData,
        Requirement,
    )


class Evaluation:
    """The state of one evaluation: given inputs, memoised values, diagnostics."""

    def __init__(
        self,
        model: DmnModel,
        inputs: Mapping[str, Any],
        *,
        clock: Clock | None = None,
        env: Env | None = None,
        converted: bool = False,
    ) -> None:
        self.model = model
        self.inputs = inputs
        self.env = env if env is not None else Env(clock=clock or SystemClock())
        if self.env.types is None:
            self.env.types = model.type_predicates
        self.converted = converted
        self.memo: dict[int, Any] = {}
        self.active: set[int] = set()
        self._free: Scope | None = None

    def value_of(self, element: Element) -> Any:
        from flowdesk.dmn.model import BusinessKnowledgeModel, Decision, DecisionService, InputData

        key = id(element)
        if key in self.memo:
            return self.memo[key]
        if key in self.active:  # the loader rejects cycles; this guards services and imports
            self.env.diagnostics.add(f"'{element.name}' depends on itself; result null")
            return None
        self.active.add(key)
        try:
            value: Any
            if isinstance(element, InputData):
                value = self._input(element)
            elif isinstance(element, Decision):
                scope = self.scope(element.requirements)
                value = (
                    element.expression.evaluate(scope, self.env)
                    if element.expression is not None
                    else None
                )
                if element.type is not None:
                    value = element.type.coerce(value, self.env, f"decision '{element.name}'")
            elif isinstance(element, BusinessKnowledgeModel):
                value = BoxedFunction(
                    element.name,
                    element.parameters,
                    element.body,
                    self.scope(element.requirements, free=False),
                    element.kind,
                    element.result_type,
                )
            elif isinstance(element, DecisionService):
                value = ServiceFunction(self.model, element)
            else:  # pragma: no cover - the loader only builds the kinds above
                raise TypeError(f"cannot evaluate {type(element).__name__}")
        finally:
            self.active.discard(key)
        self.memo[key] = value
        return value

    def free_inputs(self) -> Scope:
        """Given inputs that name no element of the model (converted once per evaluation).

        A decision sees them as variables too, so a table written against plain variables
        (no inputData elements, as in BPMN engines' business rule tasks) can be evaluated.
        Declared requirements take precedence over them.
        """
        if self._free is None:
            self._free = {}
            known = self.model.element_keys
            for key, raw in self.inputs.items():
                if key in known:
                    continue
                if self.converted:
                    self._free[key] = raw
                    continue
                try:
                    self._free[key] = values.to_feel(raw)
                except TypeError as exc:
                    self.env.diagnostics.add(f"input '{key}': {exc}; using null")
                    self._free[key] = None
        return self._free

    def scope(self, requirements: list[Requirement], *, free: bool = True) -> Scope:
        """The names a decision (or, with free=False, a BKM's body) sees."""
        scope: Scope = dict(self.free_inputs()) if free and self.inputs else {}
        for req in requirements:
            value = self.value_of(req.element)
            if req.prefix:
                inner = scope.get(req.prefix)
                inner = dict(inner) if isinstance(inner, dict) else {}
                inner[req.element.name] = value
                scope[req.prefix] = inner
            else:
                scope[req.element.name] = value
        return scope

    def _input(self, element: InputData) -> Any:
        raw = _lookup(self.inputs, element)
        if not self.converted:
            try:
                raw = values.to_feel(raw)
            except TypeError as exc:
                self.env.diagnostics.add(f"input '{element.qualified}': {exc}; using null")
                return None
        if element.type is None:
            return raw
        return element.type.coerce_input(raw, self.env, f"input '{element.qualified}'")

    def service(self, service: DecisionService, given: Mapping[str, Any], convert: bool) -> Any:
        """Evaluate a decision service: input decisions take their values from `given`."""
        for decision in service.input_decisions:
            raw = _lookup(given, decision)
            if convert:
                raw = values.to_feel(raw)
            if decision.type is not None:
                raw = decision.type.coerce(raw, self.env, f"input decision '{decision.name}'")
            self.memo[id(decision)] = raw
        results = {d.name: self.value_of(d) for d in service.outputs}
        value: Any = next(iter(results.values())) if len(results) == 1 else results
        if service.type is not None and service.type.output is not None:
            # DMN 1.5: the service's type is a function type; its result has the output type
            value = service.type.output.coerce(
                value, self.env, f"decision service '{service.name}'"
            )
        elif service.type is not None and len(results) != 1:
            value = service.type.coerce(value, self.env, f"decision service '{service.name}'")
        return value


class ServiceFunction(FeelFunction):
    """A decision service as a function: parameters are its input data, then input decisions."""

    def __init__(self, model: DmnModel, service: DecisionService) -> None:
        self.model = model
        self.service = service
        self.name = service.name
        self.params = tuple(e.name for e in service.input_data) + tuple(
            d.name for d in service.input_decisions
        )

    def call(self, env: Env, args: list[Any]) -> Any:
        given = dict(zip(self.params, args, strict=True))
        run = Evaluation(self.model, given, env=env, converted=True)
        for data in self.service.input_data:  # parameters bind by plain name
            run.memo[id(data)] = (
                data.type.coerce(given.get(data.name), env, f"parameter '{data.name}'")
                if data.type is not None
                else given.get(data.name)
            )
        return run.service(self.service, given, convert=False)


def _lookup(inputs: Mapping[str, Any], element: Element) -> Any:
    if element.qualified in inputs:
        return inputs[element.qualified]
    if element.prefix:
        nested = inputs.get(element.prefix)
        if isinstance(nested, Mapping) and element.name in nested:
            return nested[element.name]
    if element.name in inputs:
        return inputs[element.name]
    return inputs.get(element.id)
