"""The machinery every built-in shares: overloads chosen by argument count or parameter names,
null propagation, and argument checks with messages that name the function and parameter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Generic, TypeVar

from flowdesk.feel.errors import FeelRuntimeError
from flowdesk.feel.numbers import is_integral
from flowdesk.feel.runtime import Env, FeelFunction
from flowdesk.feel.values import type_name

Impl = Callable[..., Any]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Signature:
    """One overload. `required` leading params must be given; a `variadic` signature collects
    surplus positional arguments into a list for its last parameter; `list_or_varargs` takes
    either one list or any number of separate values (`min([1, 2])` and `min(1, 2)`);
    a `positional_only` one is never chosen by parameter names (where two overloads share a
    count and only the names tell them apart, e.g. `context put` with `key` or `keys`)."""

    params: tuple[str, ...]
    impl: Impl
    required: int
    variadic: bool = False
    list_or_varargs: bool = False
    nullable: frozenset[str] = frozenset()
    positional_only: bool = False


class Builtin(FeelFunction):
    """A built-in FEEL function with one or more overloads (spec parameter names)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.signatures: list[Signature] = []
        self.params = ()

    def add(self, sig: Signature) -> None:
        self.signatures.append(sig)
        if len(self.signatures) == 1:
            self.params = sig.params

    def invoke(self, env: Env, positional: list[Any] | None, named: dict[str, Any] | None) -> Any:
        if named is not None:
            sig, args = self._bind_named(named)
        else:
            sig, args = self._bind_positional(list(positional or []))
        for pname, value in zip(sig.params[: sig.required], args, strict=False):
            if value is None and pname not in sig.nullable:
                return None
        try:
            return sig.impl(env, *args)
        except (ArithmeticError, ValueError) as exc:  # decimal signals, overflow, bad dates
            raise FeelRuntimeError(f"{self.name}: {exc}") from None

    def call(self, env: Env, args: list[Any]) -> Any:
        return self.invoke(env, args, None)

    def _bind_positional(self, args: list[Any]) -> tuple[Signature, list[Any]]:
        n = len(args)
        for sig in self.signatures:
            if sig.list_or_varargs:
                if n == 1 and isinstance(args[0], list):
                    return sig, [args[0]]
                if n >= 1:
                    return sig, [args]
                continue
            if sig.variadic:
                fixed = len(sig.params) - 1
                if n >= sig.required:
                    return sig, args[:fixed] + [None] * (fixed - n) + [args[fixed:]]
                continue
            if sig.required <= n <= len(sig.params):
                return sig, args + [None] * (len(sig.params) - n)
        raise FeelRuntimeError(
            f"{self.name}: wrong number of arguments ({n}); expected "
            + " or ".join(self._describe(s) for s in self.signatures)
        )

    def _bind_named(self, named: dict[str, Any]) -> tuple[Signature, list[Any]]:
        known = {p for s in self.signatures for p in s.params}
        unknown = [k for k in named if k not in known]
        if unknown:
            raise FeelRuntimeError(f"{self.name}: unknown parameter '{unknown[0]}'")
        for sig in self.signatures:
            if sig.positional_only:
                continue
            if set(named) <= set(sig.params) and all(
                p in named for p in sig.params[: sig.required]
            ):
                args = [named.get(p) for p in sig.params]
                if sig.variadic and not isinstance(args[-1], list):
                    args[-1] = [] if args[-1] is None else [args[-1]]
                if sig.list_or_varargs and args[0] is not None and not isinstance(args[0], list):
                    raise bad(self.name, sig.params[0], "a list", args[0])
                return sig, args
        raise FeelRuntimeError(
            f"{self.name}: no form takes the parameters ({', '.join(named)}); expected "
            + " or ".join(self._describe(s) for s in self.signatures)
        )

    def _describe(self, sig: Signature) -> str:
        names = list(sig.params)
        if sig.variadic or sig.list_or_varargs:
            names[-1] += "..."
        shown = [p if i < sig.required else f"{p}?" for i, p in enumerate(names)]
        return f"{self.name}({', '.join(shown)})"


REGISTRY: dict[str, Builtin] = {}


def builtin(
    name: str,
    *params: str,
    required: int | None = None,
    variadic: bool = False,
    list_or_varargs: bool = False,
    nullable: tuple[str, ...] = (),
    positional_only: bool = False,
) -> Callable[[Impl], Impl]:
    """Register `fn(env, *args)` as an overload of the built-in `name`. A null in a required
    parameter (not listed in `nullable`) makes the result null without calling `fn`."""

    def deco(fn: Impl) -> Impl:
        sig = Signature(
            params=params,
            impl=fn,
            required=len(params) if required is None else required,
            variadic=variadic,
            list_or_varargs=list_or_varargs,
            nullable=frozenset(nullable),
            positional_only=positional_only,
        )
        REGISTRY.setdefault(name, Builtin(name)).add(sig)
        return fn

    return deco


# --- argument checks ------------------------------------------------------------------------


def bad(fname: str, pname: str, expected: str, value: Any) -> FeelRuntimeError:
    return FeelRuntimeError(f"{fname}: {pname} must be {expected}, got {type_name(value)}")


class _Expect(Generic[T]):
    """An argument check: `text("substring", "string", v)` returns v if it is a string and
    raises "substring: string must be a string, got number" otherwise."""

    def __init__(self, kind: type[T], label: str) -> None:
        self.kind = kind
        self.label = label

    def __call__(self, fname: str, pname: str, value: Any) -> T:
        if not isinstance(value, self.kind):
            raise bad(fname, pname, self.label, value)
        return value


num = _Expect(Decimal, "a number")  # Decimal never matches bool, so booleans are rejected
text = _Expect(str, "a string")
a_list: _Expect[list[Any]] = _Expect(list, "a list")
boolean = _Expect(bool, "a boolean")
context: _Expect[dict[str, Any]] = _Expect(dict, "a context")
function = _Expect(FeelFunction, "a function")
a_date = _Expect(date, "a date or date and time")  # a date and time is a date here


def integer(fname: str, pname: str, value: Any) -> int:
    n = num(fname, pname, value)
    if not is_integral(n):
        raise FeelRuntimeError(f"{fname}: {pname} must be an integer, got {n}")
    if abs(n) > 10**9:
        raise FeelRuntimeError(f"{fname}: {pname} {n} is out of range")
    return int(n)
