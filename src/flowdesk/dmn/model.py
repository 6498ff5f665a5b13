"""The loaded decision model: DRG elements, their definitions, and the public DmnModel.

A DmnModel is immutable after load and safe to share: each evaluation keeps its own state
(memoised decision values, diagnostics) in a graph.Evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flowdesk.core.clock import Clock
from flowdesk.core.errors import ModelError, NotFoundError, Position
from flowdesk.dmn.boxed import Expr, Parameter
from flowdesk.dmn.items import ItemType
from flowdesk.feel.errors import Diagnostic
from flowdesk.feel.runtime import Env


@dataclass(eq=False)
class Element:
    """A DRG element. `qualified` is its name as seen from the main model ("imp.Name" for an
    element of an imported model); `prefix` is that import name (None in the main model)."""

    name: str
    id: str
    position: Position
    prefix: str | None = None

    @property
    def qualified(self) -> str:
        return f"{self.prefix}.{self.name}" if self.prefix else self.name


@dataclass(eq=False)
class Requirement:
    """An information or knowledge requirement, resolved. `prefix` is the import name under
    which the required element is visible from the requiring element (None: same model)."""

    element: Element
    prefix: str | None = None


@dataclass(eq=False)
class InputData(Element):
    type: ItemType | None = None


@dataclass(eq=False)
class Decision(Element):
    type: ItemType | None = None
    expression: Expr | None = None
    requirements: list[Requirement] = field(default_factory=list)


@dataclass(eq=False)
class BusinessKnowledgeModel(Element):
    parameters: list[Parameter] = field(default_factory=list)
    body: Expr | None = None
    kind: str = "FEEL"
    result_type: ItemType | None = None
    requirements: list[Requirement] = field(default_factory=list)


@dataclass(eq=False)
class DecisionService(Element):
    outputs: list[Decision] = field(default_factory=list)
    encapsulated: list[Decision] = field(default_factory=list)
    input_decisions: list[Decision] = field(default_factory=list)
    input_data: list[InputData] = field(default_factory=list)
    type: ItemType | None = None


@dataclass(eq=False)
class Definitions:
    """One DMN file: its namespace, elements by id, and its imports (name -> namespace)."""

    name: str
    namespace: str
    file: str | None
    elements: dict[str, Element] = field(default_factory=dict)
    items: dict[str, ItemType] = field(default_factory=dict)
    imports: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DecisionResult:
    """The value of a decision (FEEL value, see flowdesk.dmn) and what went wrong on the way."""

    value: Any
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)

    def messages(self) -> list[str]:
        return [d.message for d in self.diagnostics]


class DmnModel:
    """A loaded set of DMN files; the first is the main model, the others are its imports."""

    def __init__(self, definitions: list[Definitions]) -> None:
        self.definitions = definitions
        self.main = definitions[0]
        #: what a tolerant load (load_model(..., tolerant=True)) set aside; empty when strict
        self.problems: tuple[ModelError, ...] = ()
        self._type_predicates: dict[str, Callable[[Any, Env], bool]] | None = None
        self._by_key: dict[str, Element] = {}
        for defs in reversed(definitions):  # main model's names win
            for element in defs.elements.values():
                self._by_key[element.qualified] = element
                self._by_key[element.id] = element
        for element in self.main.elements.values():
            self._by_key[element.name] = element
        #: every key naming an element or an import prefix (inputs not in it are free inputs)
        self.element_keys = frozenset(self._by_key) | {
            e.prefix for e in self._by_key.values() if e.prefix
        }

    @property
    def name(self) -> str:
        return self.main.name

    @property
    def type_predicates(self) -> dict[str, Callable[[Any, Env], bool]]:
        """Item definitions by name (and "import.name"), for FEEL's `instance of`."""
        found = self._type_predicates
        if found is None:
            found = {}
            for defs in reversed(self.definitions):
                prefix = next(
                    (
                        n
                        for d in self.definitions
                        for n, ns in d.imports.items()
                        if ns == defs.namespace
                    ),
                    None,
                )
                for item_name, item in defs.items.items():
                    found[f"{prefix}.{item_name}" if prefix else item_name] = _type_check(item)
            for item_name, item in self.main.items.items():
                found[item_name] = _type_check(item)
            self._type_predicates = found
        return found

    @property
    def decisions(self) -> dict[str, Decision]:
        """Decisions by name as seen from the main model ("imp.Name" for imported ones)."""
        return {
            e.qualified: e
            for defs in self.definitions
            for e in defs.elements.values()
            if isinstance(e, Decision)
        }

    @property
    def decision_services(self) -> dict[str, DecisionService]:
        return {
            e.qualified: e
            for defs in self.definitions
            for e in defs.elements.values()
            if isinstance(e, DecisionService)
        }

    @property
    def input_data(self) -> dict[str, InputData]:
        return {
            e.qualified: e
            for defs in self.definitions
            for e in defs.elements.values()
            if isinstance(e, InputData)
        }

    def element(self, key: str) -> Element:
        """An element by name, qualified name ("imp.Name") or id."""
        found = self._by_key.get(key)
        if found is None:
            raise NotFoundError(f"no element named or with id '{key}' in model '{self.name}'")
        return found

    def evaluate(
        self, decision: str, inputs: Mapping[str, Any] | None = None, *, clock: Clock | None = None
    ) -> DecisionResult:
        """Evaluate a decision (by name or id) and its requirements, each decision once.

        `inputs` maps input data names to Python or FEEL values (converted with to_feel and
        coerced to the input data's type); missing inputs are null.
        """
        from flowdesk.dmn.graph import Evaluation

        element = self.element(decision)
        if not isinstance(element, Decision):
            raise NotFoundError(f"'{decision}' is not a decision in model '{self.name}'")
        run = Evaluation(self, inputs or {}, clock=clock)
        value = run.value_of(element)
        return DecisionResult(value, tuple(run.env.diagnostics.items))

    def evaluate_service(
        self, service: str, inputs: Mapping[str, Any] | None = None, *, clock: Clock | None = None
    ) -> DecisionResult:
        """Evaluate a decision service: `inputs` gives its input data and input decisions by
        name; the value is the output decision's value, or a context of them if several."""
        from flowdesk.dmn.graph import Evaluation

        element = self.element(service)
        if not isinstance(element, DecisionService):
            raise NotFoundError(f"'{service}' is not a decision service in model '{self.name}'")
        run = Evaluation(self, inputs or {}, clock=clock)
        value = run.service(element, inputs or {}, convert=True)
        return DecisionResult(value, tuple(run.env.diagnostics.items))


def _type_check(item: ItemType) -> Callable[[Any, Env], bool]:
    """FEEL `instance of` for an item definition: type conformance, without allowed values."""

    def check(value: Any, env: Env) -> bool:
        return item.conforms(value, env, constraints=False)

    return check
