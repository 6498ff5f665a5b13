"""for, some/every, filters, paths and projections (DMN 1.5 10.3.2.4 - 10.3.2.6 examples)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from flowdesk.feel import Env, evaluate

D = Decimal


def ev(text: str, context: dict[str, Any] | None = None) -> Any:
    return evaluate(text, context)


def nums(*values: int | str) -> list[Decimal]:
    return [D(v) for v in values]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("for i in [1, 2, 3] return i * i", nums(1, 4, 9)),
        ("for x in [1, 2], y in [3, 4] return x * y", nums(3, 4, 6, 8)),
        ("for i in 1..3 return i", nums(1, 2, 3)),
        ("for i in 3..1 return i", nums(3, 2, 1)),
        ("for i in 2..2 return i", nums(2)),
        ("for i in [1..3] return i", nums(1, 2, 3)),
        ("for i in (1..4) return i", nums(2, 3)),
        ("for i in 0..4 return if i = 0 then 1 else i * partial[-1]", nums(1, 1, 2, 6, 24)),
        ("for x in [1, 2], y in x..2 return [x, y]", [nums(1, 1), nums(1, 2), nums(2, 2)]),
        ("for i in [] return i", []),
        ("for x in [[1, 2], [3]] return count(x)", nums(2, 1)),
    ],
)
def test_for(text: str, expected: Any) -> None:
    if "count(" in text:
        pytest.importorskip("flowdesk.feel.builtins")
    assert ev(text) == expected


def test_for_over_a_single_value_iterates_once() -> None:
    assert ev("for x in 5 return x + 1") == nums(6)


def test_for_range_needs_integer_bounds() -> None:
    env = Env()
    assert evaluate("for i in 1..2.5 return i", env=env) is None
    assert "integer bounds" in env.diagnostics.messages()[0]


def test_functions_created_in_a_loop_capture_their_iteration() -> None:
    assert ev("for f in (for i in [1, 2] return function() i) return f()") == nums(1, 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("some x in [1, 2, 3] satisfies x > 2", True),
        ("some x in [1, 2, 3] satisfies x > 3", False),
        ("every x in [1, 2, 3] satisfies x > 0", True),
        ("every x in [1, 2, 3] satisfies x > 1", False),
        ("some x in [] satisfies x > 0", False),
        ("every x in [] satisfies x > 0", True),
        ("some x in [1, 2], y in [2, 3] satisfies x * y = 6", True),
        ("every x in [1, 2], y in [2, 3] satisfies x < y + 1", True),
        ("every x in [1, 2], y in [2, 3] satisfies x < y", False),
        ("every x in [1, null] satisfies x > 0", False),
        ('some ch in history satisfies ch.event = "bankruptcy"', True),
    ],
)
def test_quantified(text: str, expected: bool) -> None:
    history = [{"event": "late payment"}, {"event": "bankruptcy"}]
    assert ev(text, {"history": history}) is expected


def test_quantified_short_circuits() -> None:
    env = Env()
    assert evaluate("some x in 1..1000 satisfies x = 3", env=env) is True
    assert env.iterations == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1, 2, 3, 4][item > 2]", nums(3, 4)),
        ("[1, 2, 3, 4][item > 10]", []),
        ("[1, 2, 3, 4][1]", D(1)),
        ("[1, 2, 3, 4][4]", D(4)),
        ("[1, 2, 3, 4][-1]", D(4)),
        ("[1, 2, 3, 4][-4]", D(1)),
        ("[1, 2, 3, 4][0]", None),
        ("[1, 2, 3, 4][5]", None),
        ("[1, 2, 3, 4][n]", D(2)),
        ("[1, 2, 3, 4][item = n or item = 4]", nums(2, 4)),
        ("[][1]", None),
        ("5[item > 2]", nums(5)),
        ("5[1]", D(5)),
        ("null[1]", None),
        ("[[1, 2], [3, 4]][2][1]", D(3)),
    ],
)
def test_filters(text: str, expected: Any) -> None:
    assert ev(text, {"n": 2}) == expected


def test_filter_on_contexts_with_bare_field_names() -> None:
    people = [{"name": "Ann", "age": 30}, {"name": "Bob", "age": 17}, {"name": "Cy"}]
    assert ev("people[age >= 18]", {"people": people}) == [{"name": "Ann", "age": D(30)}]
    assert ev('people[item.name = "Bob"].age', {"people": people}) == nums(17)
    env = Env()
    evaluate("people[age >= 18]", {"people": people}, env=env)
    assert not env.diagnostics  # a missing field is null, not an error


def test_spec_filter_example() -> None:
    assert ev("[{x: 1, y: 2}, {x: 2, y: 3}][x = 1]") == [{"x": D(1), "y": D(2)}]


def test_filter_sees_outer_names() -> None:
    assert ev("[1, 2, 3][item > limit]", {"limit": 1}) == nums(2, 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{a: {b: 3}}.a.b", D(3)),
        ("{a: 1}.missing", None),
        ("[{x: 1, y: 2}, {x: 2, y: 3}].y", nums(2, 3)),
        ("[{a: {b: 1}}, {a: {b: 2}}].a.b", nums(1, 2)),
        ("[{a: 1}, {b: 2}].a", [D(1), None]),
        ("person.address.city", "Paris"),
        ("null.a", None),
    ],
)
def test_paths_and_projection(text: str, expected: Any) -> None:
    person = {"address": {"city": "Paris"}}
    assert ev(text, {"person": person}) == expected


def test_path_on_a_value_without_that_property_is_null_with_diagnostic() -> None:
    env = Env()
    assert evaluate('"abc".size', env=env) is None
    assert "string has no property 'size'" in env.diagnostics.messages()[0]


def test_results_are_fresh_lists_callers_may_mutate() -> None:
    from flowdesk.feel import compile_expression

    expr = compile_expression("[[1, 2], [3]]")
    first = expr.evaluate({})
    first[0].append(D(99))
    first.append("x")
    assert expr.evaluate({}) == [nums(1, 2), nums(3)]
    inner = compile_expression("[[1, 2], [3]][1]")
    inner.evaluate({}).append(D(5))
    assert inner.evaluate({}) == nums(1, 2)


def test_for_over_date_ranges() -> None:
    from datetime import date

    days = [date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)]
    assert ev('for d in @"2024-02-28"..@"2024-03-01" return d') == days
    assert ev('for d in @"2024-03-01"..@"2024-02-28" return d') == days[::-1]
    assert ev('for d in [@"2024-02-28"..@"2024-03-01") return d') == days[:2]
