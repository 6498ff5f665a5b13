"""The expression language the engine evaluates conditions, scripts and mappings with.

The engine depends on a small protocol so FEEL stays the single expression language in production
(``FeelLanguage``) while the engine itself can be exercised on its own. Values handed to FEEL are
converted with ``flowdesk.feel.values.to_feel`` lazily, per variable actually read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from flowdesk.core.clock import Clock, SystemClock
from flowdesk.engine.errors import EngineError


class ExpressionError(Exception):
    """Evaluation failed (FEEL produced null with diagnostics, or the text does not compile)."""


class ExpressionLanguage(Protocol):
    def evaluate(self, text: str, context: Mapping[str, Any]) -> Any: ...


class _FeelView(Mapping[str, Any]):
    __slots__ = ("_base", "_convert")

    def __init__(self, base: Mapping[str, Any], convert: Callable[[Any], Any]) -> None:
        self._base = base
        self._convert = convert

    def __getitem__(self, key: str) -> Any:
        return self._convert(self._base[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._base)

    def __len__(self) -> int:
        return len(self._base)

    def __contains__(self, key: object) -> bool:
        return key in self._base


class FeelLanguage:
    """FEEL through ``flowdesk.feel`` (compiled once per text and cached)."""

    def __init__(self, clock: Clock | None = None) -> None:
        try:
            import flowdesk.feel as feel
            from flowdesk.feel import runtime, values  # type: ignore[attr-defined,unused-ignore]
        except ImportError as exc:  # pragma: no cover - depends on the FEEL package landing
            raise EngineError(
                "FEEL is not available (flowdesk.feel.values is missing)",
                hint="install the FEEL package or pass an ExpressionLanguage to Engine",
            ) from exc
        compile_expression = getattr(feel, "compile_expression", None)
        if compile_expression is None:  # pragma: no cover
            raise EngineError("FEEL is not available (flowdesk.feel.compile_expression missing)")
        self._compile: Callable[[str], Any] = compile_expression
        self._to_feel: Callable[[Any], Any] = values.to_feel
        self._env_type: Callable[..., Any] = runtime.Env
        self._clock = clock or SystemClock()
        self._cache: dict[str, Any] = {}

    def evaluate(self, text: str, context: Mapping[str, Any]) -> Any:
        compiled = self._cache.get(text)
        if compiled is None:
            try:
                compiled = self._compile(text)
            except Exception as exc:
                raise ExpressionError(f"FEEL '{text}' does not compile: {exc}") from exc
            self._cache[text] = compiled
        env = self._env_type(clock=self._clock)
        value = compiled.evaluate(_FeelView(context, self._to_feel), env)
        if value is None and env.diagnostics:
            raise ExpressionError(f"FEEL '{text}' failed: {'; '.join(env.diagnostics.messages())}")
        return value


def feel_available() -> bool:
    try:
        import flowdesk.feel as feel
        from flowdesk.feel import values  # type: ignore[attr-defined,unused-ignore]  # noqa: F401
    except ImportError:
        return False
    return hasattr(feel, "compile_expression")
