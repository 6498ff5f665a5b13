"""What compiled FEEL, built-in functions, user functions and DMN BKMs share at run time.

`Env` carries the per-evaluation services (clock, diagnostics, limits). `FeelFunction` is the one
protocol every callable FEEL value implements, so the evaluator invokes built-ins, FEEL-defined
functions and BKMs the same way, with positional or named arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flowdesk.core.clock import Clock, SystemClock
from flowdesk.feel.errors import Diagnostics, FeelRuntimeError


@dataclass(frozen=True, slots=True)
class Limits:
    max_depth: int = 200
    max_string: int = 1_000_000
    max_iterations: int = 1_000_000


@dataclass(slots=True)
class Env:
    clock: Clock = field(default_factory=SystemClock)
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    limits: Limits = field(default_factory=Limits)
    iterations: int = 0
    #: types the host defines by name (DMN item definitions), for `x instance of tName`:
    #: name -> predicate(value, env)
    types: Mapping[str, Callable[[Any, Env], bool]] | None = None


class FeelFunction:
    """A callable FEEL value. Subclasses implement `call` with bound arguments."""

    name: str = "anonymous function"
    params: tuple[str, ...] = ()

    def invoke(self, env: Env, positional: list[Any] | None, named: dict[str, Any] | None) -> Any:
        """Bind positional or named arguments to `params` (missing ones are null) and call."""
        return self.call(env, bind_arguments(self.name, self.params, positional, named))

    def call(self, env: Env, args: list[Any]) -> Any:
        raise NotImplementedError


def bind_arguments(
    name: str, params: tuple[str, ...], positional: list[Any] | None, named: dict[str, Any] | None
) -> list[Any]:
    if named is not None:
        unknown = [k for k in named if k not in params]
        if unknown:
            raise FeelRuntimeError(f"{name}: unknown parameter '{unknown[0]}'")
        return [named.get(p) for p in params]
    args = list(positional or [])
    if len(args) > len(params):
        raise FeelRuntimeError(f"{name}: expected {len(params)} arguments, got {len(args)}")
    return args + [None] * (len(params) - len(args))
