"""FEEL syntax tree: frozen dataclass nodes that remember where they start (1-based line/column).

The parser builds these; the compiler turns them into closures. Nodes are immutable so a parsed
expression can be cached and shared between threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flowdesk.feel.types import FeelType


@dataclass(frozen=True, slots=True)
class Node:
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Number(Node):
    value: Decimal


@dataclass(frozen=True, slots=True)
class String(Node):
    value: str


@dataclass(frozen=True, slots=True)
class Boolean(Node):
    value: bool


@dataclass(frozen=True, slots=True)
class Null(Node):
    pass


@dataclass(frozen=True, slots=True)
class Temporal(Node):
    """`@"2024-01-01"`: parsed by values.parse_temporal at compile time."""

    text: str


@dataclass(frozen=True, slots=True)
class Name(Node):
    name: str


@dataclass(frozen=True, slots=True)
class Negation(Node):
    operand: Node


@dataclass(frozen=True, slots=True)
class Arithmetic(Node):
    op: str  # + - * / **
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Comparison(Node):
    op: str  # = != < <= > >=
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class And(Node):
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Or(Node):
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Between(Node):
    value: Node
    low: Node
    high: Node


@dataclass(frozen=True, slots=True)
class UnaryCompare(Node):
    """A simple positive unary test such as `< 10` or `!= "x"`; the input is the left side."""

    op: str
    endpoint: Node


@dataclass(frozen=True, slots=True)
class In(Node):
    """`value in test` or `value in (test, test...)`: true when any positive unary test matches."""

    value: Node
    tests: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class InstanceOf(Node):
    value: Node
    type: FeelType


@dataclass(frozen=True, slots=True)
class If(Node):
    condition: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, slots=True)
class Iteration(Node):
    """One `name in domain` (or `name in start..end`) clause of a for or quantified expression."""

    name: str
    domain: Node
    end: Node | None


@dataclass(frozen=True, slots=True)
class For(Node):
    iterations: tuple[Iteration, ...]
    body: Node


@dataclass(frozen=True, slots=True)
class Quantified(Node):
    every: bool
    iterations: tuple[Iteration, ...]
    condition: Node


@dataclass(frozen=True, slots=True)
class RangeLiteral(Node):
    """`[1..5]`, `]1..5[`, `(1..5)`; a missing endpoint (None) means unbounded (`< 5`)."""

    start: Node | None
    end: Node | None
    start_included: bool
    end_included: bool


@dataclass(frozen=True, slots=True)
class ListLiteral(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class ContextLiteral(Node):
    entries: tuple[tuple[str, Node], ...]


@dataclass(frozen=True, slots=True)
class Path(Node):
    target: Node
    name: str


@dataclass(frozen=True, slots=True)
class Filter(Node):
    target: Node
    condition: Node


@dataclass(frozen=True, slots=True)
class Call(Node):
    """Invocation; exactly one of `args` (positional) or `named` is used."""

    function: Node
    args: tuple[Node, ...]
    named: tuple[tuple[str, Node], ...] | None


@dataclass(frozen=True, slots=True)
class FunctionDefinition(Node):
    params: tuple[tuple[str, FeelType | None], ...]
    body: Node


@dataclass(frozen=True, slots=True)
class AnyInput(Node):
    """The `-` unary test: matches every input."""


@dataclass(frozen=True, slots=True)
class UnaryTests(Node):
    """Root of a unary-tests text: positive tests, optionally wrapped in `not(...)`."""

    tests: tuple[Node, ...]
    negated: bool
