"""The few FEEL entry points the DMN engine uses, typed as protocols.

DMN compiles every FEEL text once at load through these functions, so the rest of the package
depends on the shape of a compiled expression, not on the FEEL compiler's classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from flowdesk.feel.runtime import Env


class Expression(Protocol):
    def evaluate(self, context: Mapping[str, Any], env: Env | None = None) -> Any: ...


class UnaryTests(Protocol):
    def matches(
        self, input_value: Any, context: Mapping[str, Any], env: Env | None = None
    ) -> Any: ...


def compile_expression(text: str, names: tuple[str, ...]) -> Expression:
    """Compile a FEEL expression; raises FeelSyntaxError."""
    from flowdesk import feel

    result: Expression = feel.compile_expression(text, names=names)
    return result


def compile_unary_tests(text: str, names: tuple[str, ...]) -> UnaryTests:
    """Compile FEEL unary tests (an input entry, allowed values); raises FeelSyntaxError."""
    from flowdesk import feel

    result: UnaryTests = feel.compile_unary_tests(text, names=names)
    return result
