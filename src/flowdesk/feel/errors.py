"""FEEL errors and diagnostics.

Syntax errors stop compilation and point at line and column with a caret. Runtime errors do
not stop evaluation: per the spec the failing expression yields null, and the problem is
recorded as a Diagnostic the caller can read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flowdesk.core.errors import FlowdeskError, Position


class FeelSyntaxError(FlowdeskError):
    """Text that is not FEEL. Message shows the expression and a caret under the problem."""

    code = "feel-syntax"

    def __init__(self, message: str, *, text: str, line: int, column: int, hint: str | None = None):
        self.text = text
        self.line = line
        self.column = column
        super().__init__(message, position=Position(line=line, column=column), hint=hint)

    def __str__(self) -> str:
        base = f"FEEL syntax error at line {self.line}, column {self.column}: {self.message}"
        if self.hint:
            base += f" ({self.hint})"
        lines = self.text.splitlines() or [""]
        src = lines[self.line - 1] if 0 < self.line <= len(lines) else ""
        return f"{base}\n  {src}\n  {' ' * (self.column - 1)}^"


class FeelLimitError(FlowdeskError):
    """An expression exceeded a safety limit (nesting depth, string size, iterations)."""

    code = "feel-limit"


class FeelRuntimeError(Exception):
    """Raised inside evaluation (operators, built-ins); the evaluator turns it into null plus a
    Diagnostic. Never escapes to callers of the public API."""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    message: str
    expression: str | None = None
    severity: str = "error"


@dataclass(slots=True)
class Diagnostics:
    items: list[Diagnostic] = field(default_factory=list)

    def add(self, message: str, expression: str | None = None, severity: str = "error") -> None:
        if len(self.items) < 1000:
            self.items.append(Diagnostic(message, expression, severity))

    def __bool__(self) -> bool:
        return bool(self.items)

    def messages(self) -> list[str]:
        return [d.message for d in self.items]
