"""FEEL type expressions (`parse_type`) and their `is_instance` checks."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from flowdesk.feel import FeelSyntaxError, evaluate
from flowdesk.feel.types import (
    ANY,
    NULL,
    ContextType,
    FeelType,
    FunctionType,
    ListType,
    NamedType,
    PrimitiveType,
    RangeType,
    parse_type,
)
from flowdesk.feel.values import Range, YearsMonthsDuration


@pytest.mark.parametrize(
    "text",
    [
        "number",
        "string",
        "boolean",
        "date",
        "time",
        "date and time",
        "days and time duration",
        "years and months duration",
        "Any",
        "Null",
        "list<number>",
        "list<list<string>>",
        "context<a: number, b: list<date>>",
        "function<number, string>->boolean",
        "function<>->Any",
        "range<date>",
    ],
)
def test_round_trip_rendering(text: str) -> None:
    assert str(parse_type(text)) == text


def test_parsed_structure() -> None:
    t = parse_type("context<name: string, tags: list<string>>")
    assert t == ContextType(
        (("name", PrimitiveType("string")), ("tags", ListType(PrimitiveType("string"))))
    )
    f = parse_type("function<number>->string")
    assert f == FunctionType((PrimitiveType("number"),), PrimitiveType("string"))
    assert parse_type("range<number>") == RangeType(PrimitiveType("number"))
    assert parse_type("Any") is ANY and parse_type("Null") is NULL


def test_legacy_aliases() -> None:
    assert parse_type("dayTimeDuration") == PrimitiveType("days and time duration")
    assert parse_type("yearMonthDuration") == PrimitiveType("years and months duration")


def test_unknown_names_resolve_through_callback() -> None:
    person = ContextType((("age", PrimitiveType("number")),))
    assert parse_type("tPerson") == NamedType("tPerson")
    resolved = parse_type("list<tPerson>", resolve=lambda n: person if n == "tPerson" else None)
    assert resolved == ListType(person)
    assert parse_type("ns.tPerson") == NamedType("ns.tPerson")


@pytest.mark.parametrize(
    ("text", "column"),
    [("list<number", 12), ("context<a: >", 12), ("list<>", 6), ("number extra", 8)],
)
def test_type_syntax_errors(text: str, column: int) -> None:
    with pytest.raises(FeelSyntaxError) as info:
        parse_type(text)
    assert info.value.column == column


D = Decimal


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("number", D(1), True),
        ("number", True, False),
        ("number", "1", False),
        ("string", "x", True),
        ("boolean", False, True),
        ("boolean", D(0), False),
        ("date", date(2024, 1, 1), True),
        ("date", datetime(2024, 1, 1), False),
        ("date and time", datetime(2024, 1, 1), True),
        ("time", time(1, 2), True),
        ("days and time duration", timedelta(1), True),
        ("years and months duration", YearsMonthsDuration(3), True),
        ("years and months duration", timedelta(1), False),
        ("Any", D(1), True),
        ("Any", None, False),
        ("Null", None, True),
        ("Null", D(1), False),
        ("list<number>", [D(1), D(2)], True),
        ("list<number>", [], True),
        ("list<number>", [D(1), "2"], False),
        ("list<number>", D(1), False),
        ("context<a: number>", {"a": D(1), "b": "x"}, True),
        ("context<a: number>", {"b": D(1)}, False),
        ("context<a: number>", {"a": "x"}, False),
        ("range<number>", Range(D(1), D(2), True, True), True),
        ("range<number>", Range(None, D(2), False, False), True),
        ("range<date>", Range(D(1), D(2), True, True), False),
    ],
)
def test_is_instance(text: str, value: Any, expected: bool) -> None:
    t: FeelType = parse_type(text)
    assert t.is_instance(value) is expected


def test_function_types_check_arity_of_feel_functions() -> None:
    fn = evaluate("function(a: number, b) a")
    assert parse_type("function<number, Any>->Any").is_instance(fn)
    assert not parse_type("function<number>->Any").is_instance(fn)
    assert not parse_type("function<string, Any>->Any").is_instance(fn)
    assert not parse_type("function<>->Any").is_instance(D(1))


def test_unknown_type_in_instance_of_is_null_with_diagnostic() -> None:
    from flowdesk.feel import Env

    env = Env()
    assert evaluate("1 instance of tUnknown", env=env) is None
    assert "unknown type 'tUnknown'" in env.diagnostics.messages()[0]
