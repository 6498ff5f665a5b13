"""Variables as an instance sees them: a chain of scopes (iteration, subprocess, task-local)
ending at the instance; reads take the nearest, writes go where the name already lives, else to
the instance (Camunda's propagation rule), and every write is reported as a change."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flowdesk.bpmn.model import Node
from flowdesk.engine import events as ev
from flowdesk.engine.errors import Incident
from flowdesk.engine.expressions import ExpressionError
from flowdesk.engine.state import InstanceState, Token

if TYPE_CHECKING:
    from flowdesk.engine.engine import Engine


class ScopeView(Mapping[str, Any]):
    """Variables visible from a scope: the scope chain up to the instance, nearest first."""

    __slots__ = ("_chain", "_extra")

    def __init__(self, chain: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> None:
        self._chain = chain
        self._extra = extra

    def __getitem__(self, key: str) -> Any:
        if self._extra is not None and key in self._extra:
            return self._extra[key]
        for table in self._chain:
            if key in table:
                return table[key]
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if self._extra is not None and key in self._extra:
            return True
        return any(key in table for table in self._chain)

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for table in [self._extra or {}, *self._chain]:
            for key in table:
                if key not in seen:
                    seen.add(key)
                    yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)


def key_text(value: Any) -> str | None:
    """Correlation keys compare as text; integral numbers lose their '.0'."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | float) and value == int(value):
        return str(int(value))
    return str(value)


class VariableAccess:
    """Variable reading, writing and expression evaluation for a Run."""

    engine: Engine
    state: InstanceState
    changed: dict[str, Any]

    def emit(
        self,
        kind: str,
        node: Node | None = None,
        token: Token | None = None,
        data: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> None:
        raise NotImplementedError

    def scope_of(self, token: Token) -> str:
        """The innermost variable scope of a token (its own local scope, if it has one)."""
        return token.id if token.id in self.state.scopes else token.scope

    def chain(self, scope_id: str) -> list[dict[str, Any]]:
        tables: list[dict[str, Any]] = []
        scopes = self.state.scopes
        while scope_id:
            scope = scopes.get(scope_id)
            if scope is None:
                break
            tables.append(scope.vars)
            scope_id = scope.parent
        tables.append(self.state.vars)
        return tables

    def view(self, scope_id: str, extra: dict[str, Any] | None = None) -> ScopeView:
        return ScopeView(self.chain(scope_id), extra)

    def set_var(self, scope_id: str, name: str, value: Any) -> None:
        """Set where the variable already lives (nearest scope first), else on the instance."""
        for table in self.chain(scope_id):
            if name in table:
                table[name] = value
                break
        else:
            self.state.vars[name] = value
        self.changed[name] = value

    def set_vars(self, scope_id: str, variables: Mapping[str, Any] | None) -> None:
        if variables:
            for name, value in variables.items():
                self.set_var(scope_id, name, value)

    def flush_changes(self, node: Node | None = None, actor: str | None = None) -> None:
        if self.changed:
            self.emit(ev.VARIABLES_CHANGED, node, data={"variables": self.changed}, actor=actor)
            self.changed = {}

    def eval(self, text: str, scope_id: str, extra: dict[str, Any] | None = None) -> Any:
        try:
            return self.engine.expressions.evaluate(text, self.view(scope_id, extra))
        except ExpressionError as exc:
            raise Incident(str(exc)) from exc

    def value(self, text: str | None, scope_id: str) -> Any:
        """Evaluate a literal-or-expression attribute (``=`` marks FEEL)."""
        if text is None:
            return None
        if text.startswith("="):
            return self.eval(text[1:], scope_id)
        return text

    def condition(self, text: str, scope_id: str) -> bool:
        return self.eval(text, scope_id) is True
