"""Decision tables (DMN 1.5 chapter 8): compiled cells and a short-circuit evaluator.

Every cell is compiled once at load. An evaluation computes each input expression once, then
tries the rules in order: `-` cells are skipped, a rule stops at its first failing cell, and
output entries are only evaluated for matched rules (only the first one for hit policy FIRST).

When no rule matches, the result is built from the default output entries if the table has
any; otherwise it is null for single-hit policies and C+ / C< / C> (like FEEL sum/min/max of
an empty list), 0 for C#, and an empty list for R, O and C. An input value outside the input
column's inputValues, or an output value outside outputValues / its typeRef, is an error:
null plus a diagnostic (for an output: that output).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowdesk.dmn import hit_policies
from flowdesk.dmn.boxed import Expr, Scope
from flowdesk.dmn.feel_bridge import Expression, UnaryTests
from flowdesk.dmn.items import ItemType
from flowdesk.feel import values
from flowdesk.feel.errors import FeelRuntimeError
from flowdesk.feel.runtime import Env


@dataclass(eq=False)
class InputClause:
    label: str
    expression: Expression
    allowed: UnaryTests | None = None  # inputValues


@dataclass(eq=False)
class OutputClause:
    name: str
    type: ItemType | None  # typeRef plus outputValues as a constraint
    priorities: list[Any] | None = None  # outputValues as a list, highest priority first
    default: Expression | None = None


@dataclass(eq=False)
class Rule:
    number: int  # 1-based, as users count rules
    tests: list[tuple[int, UnaryTests]]  # (input index, compiled entry), '-' cells left out
    outputs: list[Expression]


@dataclass(eq=False)
class DecisionTable(Expr):
    where: str  # "decision 'X'" for diagnostics
    hit_policy: str  # 'U', 'A', 'P', 'F', 'R', 'O', 'C', 'C+', 'C<', 'C>', 'C#'
    inputs: list[InputClause]
    outputs: list[OutputClause]
    rules: list[Rule]
    single_output: bool = field(init=False)

    def __post_init__(self) -> None:
        self.single_output = len(self.outputs) == 1

    def evaluate(self, scope: Scope, env: Env) -> Any:
        given = [clause.expression.evaluate(scope, env) for clause in self.inputs]
        for clause, value in zip(self.inputs, given, strict=True):
            if (
                clause.allowed is not None
                and value is not None
                and clause.allowed.matches(value, scope, env) is not True
            ):
                env.diagnostics.add(
                    f"{self.where}: input '{clause.label}' = {values.to_string(value)} is not "
                    "one of the table's input values; result null"
                )
                return None
        first_only = self.hit_policy == "F"
        matched: list[Rule] = []
        for rule in self.rules:
            for index, test in rule.tests:
                if test.matches(given[index], scope, env) is not True:
                    break
            else:
                matched.append(rule)
                if first_only:
                    break
        if not matched:
            return self._no_match(scope, env)
        rows = [self._row(rule, scope, env) for rule in matched]
        code = self.hit_policy
        if code in hit_policies.SINGLE_HIT:
            row = hit_policies.pick_single(code, rows, self._priority, env, self.where)
            return None if row is None else self._shape(row)
        if len(code) == 2:
            return hit_policies.aggregate(code[1], [r[0] for r in rows], env, self.where)
        return [self._shape(r) for r in hit_policies.order_multi(code, rows, self._priority)]

    def _row(self, rule: Rule, scope: Scope, env: Env) -> list[Any]:
        row = []
        for clause, expression in zip(self.outputs, rule.outputs, strict=True):
            value = expression.evaluate(scope, env)
            if clause.type is not None:
                value = clause.type.coerce(
                    value, env, f"{self.where}, rule {rule.number}, output '{clause.name}'"
                )
            row.append(value)
        return row

    def _shape(self, row: list[Any]) -> Any:
        if self.single_output:
            return row[0]
        return {clause.name: value for clause, value in zip(self.outputs, row, strict=True)}

    def _no_match(self, scope: Scope, env: Env) -> Any:
        if any(clause.default is not None for clause in self.outputs):
            row = [
                clause.default.evaluate(scope, env) if clause.default is not None else None
                for clause in self.outputs
            ]
            return self._shape(row)
        if self.hit_policy == "C#":
            return hit_policies.aggregate("#", [], env, self.where)
        if self.hit_policy in ("R", "O", "C"):
            return []
        return None

    def _priority(self, row: list[Any]) -> tuple[int, ...]:
        key = []
        for clause, value in zip(self.outputs, row, strict=True):
            if clause.priorities is None:
                continue
            key.append(_index_of(clause.priorities, value))
        return tuple(key)


def _index_of(ordered: list[Any], value: Any) -> int:
    for i, candidate in enumerate(ordered):
        try:
            if values.equals(candidate, value) is True:
                return i
        except FeelRuntimeError:
            continue
    return len(ordered)
