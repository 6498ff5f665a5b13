"""FEEL types (DMN 1.5 10.3.2.9): parsing type expressions and `instance of` checks.

`parse_type("list<number>")` gives a FeelType whose `is_instance(value)` tells whether a FEEL
value (plain Python value, see flowdesk.feel) belongs to it. DMN item definitions reuse
`parse_type` with a `resolve` callback for their own named types.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flowdesk.feel import lexer
from flowdesk.feel.errors import FeelSyntaxError
from flowdesk.feel.lexer import Token
from flowdesk.feel.runtime import FeelFunction


class FeelType:
    """Base of all FEEL types."""

    name: str = "Any"

    def is_instance(self, value: Any) -> bool:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class AnyType(FeelType):
    name: str = "Any"

    def is_instance(self, value: Any) -> bool:
        return value is not None


@dataclass(frozen=True, slots=True)
class NullType(FeelType):
    name: str = "Null"

    def is_instance(self, value: Any) -> bool:
        return value is None


def _is_number(v: Any) -> bool:
    return type(v) is Decimal


def _is_string(v: Any) -> bool:
    return type(v) is str


def _is_boolean(v: Any) -> bool:
    return type(v) is bool


def _is_date(v: Any) -> bool:
    return type(v) is date


def _is_time(v: Any) -> bool:
    return type(v) is time


def _is_date_time(v: Any) -> bool:
    return type(v) is datetime


def _is_dt_duration(v: Any) -> bool:
    return type(v) is timedelta


def _is_ym_duration(v: Any) -> bool:
    from flowdesk.feel.values import YearsMonthsDuration

    return type(v) is YearsMonthsDuration


def _is_context(v: Any) -> bool:
    return isinstance(v, dict)


def _is_list(v: Any) -> bool:
    return isinstance(v, list)


def _is_function(v: Any) -> bool:
    return isinstance(v, FeelFunction)


def _is_range(v: Any) -> bool:
    from flowdesk.feel.values import Range

    return isinstance(v, Range)


_PRIMITIVES: dict[str, Callable[[Any], bool]] = {
    "number": _is_number,
    "string": _is_string,
    "boolean": _is_boolean,
    "date": _is_date,
    "time": _is_time,
    "date and time": _is_date_time,
    "days and time duration": _is_dt_duration,
    "years and months duration": _is_ym_duration,
    "context": _is_context,
    "list": _is_list,
    "function": _is_function,
    "range": _is_range,
}

_ALIASES = {
    "dayTimeDuration": "days and time duration",
    "yearMonthDuration": "years and months duration",
    "dateTime": "date and time",
}

# Multi-word type names, as token sequences, longest first.
_MULTI_WORD = sorted((tuple(n.split(" ")) for n in _PRIMITIVES if " " in n), key=len, reverse=True)


@dataclass(frozen=True, slots=True)
class PrimitiveType(FeelType):
    name: str

    def is_instance(self, value: Any) -> bool:
        return _PRIMITIVES[self.name](value)


@dataclass(frozen=True, slots=True)
class ListType(FeelType):
    item: FeelType

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"list<{self.item}>"

    def is_instance(self, value: Any) -> bool:
        return isinstance(value, list) and all(v is None or self.item.is_instance(v) for v in value)


@dataclass(frozen=True, slots=True)
class ContextType(FeelType):
    fields: tuple[tuple[str, FeelType], ...]

    @property
    def name(self) -> str:  # type: ignore[override]
        inner = ", ".join(f"{k}: {t}" for k, t in self.fields)
        return f"context<{inner}>"

    def is_instance(self, value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        for key, ftype in self.fields:
            if key not in value:
                return False
            v = value[key]
            if v is not None and not ftype.is_instance(v):
                return False
        return True


@dataclass(frozen=True, slots=True)
class RangeType(FeelType):
    item: FeelType

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"range<{self.item}>"

    def is_instance(self, value: Any) -> bool:
        if not _is_range(value):
            return False
        return all(e is None or self.item.is_instance(e) for e in (value.start, value.end))


@dataclass(frozen=True, slots=True)
class FunctionType(FeelType):
    params: tuple[FeelType, ...]
    result: FeelType

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"function<{', '.join(str(p) for p in self.params)}>->{self.result}"

    def is_instance(self, value: Any) -> bool:
        if not isinstance(value, FeelFunction):
            return False
        declared = getattr(value, "param_types", None)
        if declared is None:
            return len(value.params) == len(self.params) or not value.params
        if len(declared) != len(self.params):
            return False
        # Parameters are contravariant: every argument type we may pass must be accepted.
        return all(
            d is None or type_conforms(p, d) for d, p in zip(declared, self.params, strict=True)
        )


def type_conforms(t: FeelType, s: FeelType) -> bool:
    """10.3.2.9.2: does type `t` conform to type `s` (an instance of t can stand for an s)?"""
    if isinstance(s, AnyType) or isinstance(t, NullType) or str(t) == str(s):
        return True
    if isinstance(t, ListType) and isinstance(s, ListType):
        return type_conforms(t.item, s.item)
    if isinstance(t, RangeType) and isinstance(s, RangeType):
        return type_conforms(t.item, s.item)
    if isinstance(t, ContextType) and isinstance(s, ContextType):
        mine = dict(t.fields)
        return all(k in mine and type_conforms(mine[k], st) for k, st in s.fields)
    if isinstance(t, FunctionType) and isinstance(s, FunctionType):
        return (
            len(t.params) == len(s.params)
            and all(type_conforms(sp, tp) for tp, sp in zip(t.params, s.params, strict=True))
            and type_conforms(t.result, s.result)
        )
    return False


@dataclass(frozen=True, slots=True)
class NamedType(FeelType):
    """A type name the FEEL layer does not know (e.g. a DMN item definition not resolved)."""

    name: str

    def is_instance(self, value: Any) -> bool:
        return False


ANY = AnyType()
NULL = NullType()


def parse_type(text: str, *, resolve: Callable[[str], FeelType | None] | None = None) -> FeelType:
    """Parse a FEEL type expression such as `list<context<a: number>>`. Raises FeelSyntaxError."""
    tokens = lexer.tokenize(text)
    ftype, index = parse_type_tokens(text, tokens, 0, resolve)
    if tokens[index].kind != lexer.EOF:
        tok = tokens[index]
        raise FeelSyntaxError(
            f"expected end of type, found {tok.describe()}",
            text=text,
            line=tok.line,
            column=tok.column,
        )
    return ftype


def parse_type_tokens(
    text: str,
    tokens: list[Token],
    index: int,
    resolve: Callable[[str], FeelType | None] | None = None,
) -> tuple[FeelType, int]:
    """Parse one type starting at `tokens[index]`; return it and the index after it."""
    parser = _TypeParser(text, tokens, index, resolve)
    ftype = parser.parse()
    return ftype, parser.index


class _TypeParser:
    def __init__(
        self,
        text: str,
        tokens: list[Token],
        index: int,
        resolve: Callable[[str], FeelType | None] | None,
    ) -> None:
        self.text = text
        self.tokens = tokens
        self.index = index
        self.resolve = resolve
        self.depth = 0

    def error(self, expected: str) -> FeelSyntaxError:
        tok = self.tokens[self.index]
        return FeelSyntaxError(
            f"expected {expected}, found {tok.describe()}",
            text=self.text,
            line=tok.line,
            column=tok.column,
        )

    def peek(self, value: str, offset: int = 0) -> bool:
        i = min(self.index + offset, len(self.tokens) - 1)
        tok = self.tokens[i]
        return tok.value == value and tok.kind in (lexer.OP, lexer.NAME)

    def expect(self, value: str) -> None:
        if not self.peek(value):
            raise self.error(f"'{value}'")
        self.index += 1

    def parse(self) -> FeelType:
        self.depth += 1
        if self.depth > 100:
            from flowdesk.feel.errors import FeelLimitError

            raise FeelLimitError("type expression nested too deeply")
        try:
            return self._parse()
        finally:
            self.depth -= 1

    def _parse(self) -> FeelType:
        tok = self.tokens[self.index]
        if tok.kind != lexer.NAME:
            raise self.error("a type name")
        for words in _MULTI_WORD:
            if all(self.peek(w, k) for k, w in enumerate(words)):
                self.index += len(words)
                return PrimitiveType(" ".join(words))
        word = tok.value
        if word in ("list", "range", "context", "function") and self.peek("<", 1):
            self.index += 2
            if word == "list":
                item = self.parse()
                self.expect(">")
                return ListType(item)
            if word == "range":
                item = self.parse()
                self.expect(">")
                return RangeType(item)
            if word == "context":
                fields: list[tuple[str, FeelType]] = []
                while True:
                    key = self._field_name()
                    self.expect(":")
                    fields.append((key, self.parse()))
                    if self.peek(","):
                        self.index += 1
                        continue
                    self.expect(">")
                    return ContextType(tuple(fields))
            params: list[FeelType] = []
            if not self.peek(">"):
                params.append(self.parse())
                while self.peek(","):
                    self.index += 1
                    params.append(self.parse())
            self.expect(">")
            self.expect("-")
            self.expect(">")
            return FunctionType(tuple(params), self.parse())
        self.index += 1
        # qualified names such as `ns.tPerson`
        parts = [word]
        while self.peek(".") and self.tokens[self.index + 1].kind == lexer.NAME:
            parts.append(self.tokens[self.index + 1].value)
            self.index += 2
        name = ".".join(parts)
        if name == "Any":
            return ANY
        if name == "Null":
            return NULL
        name = _ALIASES.get(name, name)
        if name in _PRIMITIVES:
            return PrimitiveType(name)
        if self.resolve is not None:
            resolved = self.resolve(name)
            if resolved is not None:
                return resolved
        return NamedType(name)

    def _field_name(self) -> str:
        tok = self.tokens[self.index]
        if tok.kind == lexer.STRING:
            self.index += 1
            return tok.value
        words: list[str] = []
        while self.tokens[self.index].kind == lexer.NAME:
            words.append(self.tokens[self.index].value)
            self.index += 1
        if not words:
            raise self.error("a context field name")
        return " ".join(words)
