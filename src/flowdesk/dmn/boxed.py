"""Boxed expressions (DMN 1.5 chapter 7 and 8), compiled once at load into evaluator nodes.

Every node has `evaluate(scope, env)`: `scope` maps the names visible at that point (input
data, required decisions, BKMs, context entries, parameters) to FEEL values. Nodes never raise
for runtime problems: like FEEL, a failing part yields null and a diagnostic in `env`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowdesk.dmn.feel_bridge import Expression
from flowdesk.dmn.items import ItemType
from flowdesk.feel.errors import FeelRuntimeError
from flowdesk.feel.runtime import Env, FeelFunction

Scope = dict[str, Any]


class Expr:
    """A compiled boxed expression."""

    def evaluate(self, scope: Scope, env: Env) -> Any:
        raise NotImplementedError


@dataclass(eq=False)
class Literal(Expr):
    """A literal expression: one FEEL expression."""

    expression: Expression
    text: str

    def evaluate(self, scope: Scope, env: Env) -> Any:
        return self.expression.evaluate(scope, env)


@dataclass(eq=False)
class Typed(Expr):
    """An expression whose result is checked against a typeRef (null + diagnostic if not)."""

    inner: Expr
    type: ItemType
    what: str

    def evaluate(self, scope: Scope, env: Env) -> Any:
        return self.type.coerce(self.inner.evaluate(scope, env), env, self.what)


@dataclass(eq=False)
class ContextEntry:
    name: str | None  # None: the final result entry
    value: Expr


@dataclass(eq=False)
class Context(Expr):
    """A boxed context: entries in order, each sees the ones before it (and itself, so a
    function entry can recurse). Without a final result entry the result is the context."""

    entries: list[ContextEntry]

    def evaluate(self, scope: Scope, env: Env) -> Any:
        inner = dict(scope)
        result: dict[str, Any] = {}
        for entry in self.entries:
            value = entry.value.evaluate(inner, env)
            if entry.name is None:
                return value
            inner[entry.name] = value
            result[entry.name] = value
        return result


@dataclass(eq=False)
class Relation(Expr):
    """A boxed relation: a list of contexts, one per row, with the column names as keys."""

    columns: list[str]
    rows: list[list[Expr]]

    def evaluate(self, scope: Scope, env: Env) -> Any:
        return [
            {col: cell.evaluate(scope, env) for col, cell in zip(self.columns, row, strict=True)}
            for row in self.rows
        ]


@dataclass(eq=False)
class ListExpr(Expr):
    """A boxed list."""

    items: list[Expr]

    def evaluate(self, scope: Scope, env: Env) -> Any:
        return [item.evaluate(scope, env) for item in self.items]


@dataclass(eq=False)
class Invocation(Expr):
    """A boxed invocation: call a function (usually a BKM) with named bindings."""

    callee: Expr
    callee_text: str
    bindings: list[tuple[str, Expr | None]]

    def evaluate(self, scope: Scope, env: Env) -> Any:
        fn = self.callee.evaluate(scope, env)
        if not isinstance(fn, FeelFunction):
            env.diagnostics.add(f"invocation: '{self.callee_text}' is not a function; result null")
            return None
        named = {
            name: (expr.evaluate(scope, env) if expr is not None else None)
            for name, expr in self.bindings
        }
        try:
            return fn.invoke(env, None, named)
        except FeelRuntimeError as exc:
            env.diagnostics.add(f"invocation of '{self.callee_text}': {exc}; result null")
            return None


@dataclass(eq=False)
class Parameter:
    name: str
    type: ItemType | None


class BoxedFunction(FeelFunction):
    """A FEEL function defined by a boxed function definition or a BKM: it binds its typed
    parameters over the scope it closes over and evaluates its body."""

    def __init__(
        self,
        name: str,
        parameters: list[Parameter],
        body: Expr | None,
        closure: Scope,
        kind: str = "FEEL",
        result_type: ItemType | None = None,
    ) -> None:
        self.name = name
        self.params = tuple(p.name for p in parameters)
        self.parameters = parameters
        self.body = body
        self.closure = closure
        self.kind = kind
        self.result_type = result_type

    def call(self, env: Env, args: list[Any]) -> Any:
        if self.kind != "FEEL" or self.body is None:
            env.diagnostics.add(
                f"function '{self.name}': kind '{self.kind}' is not supported "
                "(only FEEL functions can be evaluated); result null"
            )
            return None
        scope = dict(self.closure)
        for param, arg in zip(self.parameters, args, strict=True):
            if param.type is not None:
                arg = param.type.coerce(arg, env, f"parameter '{param.name}' of '{self.name}'")
            scope[param.name] = arg
        result = self.body.evaluate(scope, env)
        if self.result_type is not None:
            result = self.result_type.coerce(result, env, f"result of '{self.name}'")
        return result


@dataclass(eq=False)
class FunctionDefinition(Expr):
    """A boxed function definition; evaluates to a function closing over the current scope."""

    parameters: list[Parameter]
    body: Expr | None
    kind: str = "FEEL"
    name: str = "anonymous function"

    def evaluate(self, scope: Scope, env: Env) -> Any:
        return BoxedFunction(self.name, self.parameters, self.body, scope, self.kind)


@dataclass(eq=False)
class Conditional(Expr):
    """A boxed conditional (DMN 1.4+): `else` unless the condition is exactly true."""

    condition: Expr
    then: Expr
    otherwise: Expr

    def evaluate(self, scope: Scope, env: Env) -> Any:
        if self.condition.evaluate(scope, env) is True:
            return self.then.evaluate(scope, env)
        return self.otherwise.evaluate(scope, env)


@dataclass(eq=False)
class Filter(Expr):
    """A boxed filter (DMN 1.4+): items of `in` for which `match` is true; `item` names the
    current element and a context element's entries are in scope too."""

    source: Expr
    match: Expr

    def evaluate(self, scope: Scope, env: Env) -> Any:
        items = self.source.evaluate(scope, env)
        if items is None:
            return None
        if not isinstance(items, list):
            items = [items]
        kept = []
        for item in items:
            inner = dict(scope)
            if isinstance(item, dict):
                inner.update(item)
            inner["item"] = item
            if self.match.evaluate(inner, env) is True:
                kept.append(item)
        return kept


@dataclass(eq=False)
class Iterator(Expr):
    """A boxed for / some / every (DMN 1.4+) over the list (or number range) of `in`."""

    kind: str  # "for", "some", "every"
    variable: str
    source: Expr
    body: Expr

    def evaluate(self, scope: Scope, env: Env) -> Any:
        items = self.source.evaluate(scope, env)
        if items is None:
            return None
        if not isinstance(items, list):
            items = [items]
        results: list[Any] = []
        for item in items:
            env.iterations += 1
            if env.iterations > env.limits.max_iterations:
                env.diagnostics.add(
                    f"{self.kind}: more than {env.limits.max_iterations} iterations"
                )
                return None
            inner = dict(scope)
            inner[self.variable] = item
            if self.kind == "for":
                inner["partial"] = list(results)
            results.append(self.body.evaluate(inner, env))
        if self.kind == "for":
            return results
        if self.kind == "some":
            return any(r is True for r in results)
        return all(r is True for r in results)
