"""List built-ins (DMN 1.5 table 73), with the spec's examples as expected values."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import pytest

from flowdesk.feel.builtins import BUILTINS
from flowdesk.feel.errors import FeelRuntimeError
from flowdesk.feel.runtime import Env, FeelFunction
from flowdesk.feel.values import compare, parse_temporal, to_feel


def call(name: str, *args: Any, **named: Any) -> Any:
    if named:
        params = {k.replace("_", " "): to_feel(v) for k, v in named.items()}
        return BUILTINS[name].invoke(Env(), None, params)
    return BUILTINS[name].invoke(Env(), [to_feel(a) for a in args], None)


class PyFunction(FeelFunction):
    """A FEEL function value backed by a Python callable, standing in for `function(a, b) ...`."""

    def __init__(self, fn: Callable[..., Any], *params: str) -> None:
        self.fn = fn
        self.params = params
        self.name = "test function"

    def call(self, env: Env, args: list[Any]) -> Any:
        return self.fn(*args)


def n(*values: Any) -> list[Any]:
    return [to_feel(v) for v in values]


def test_list_contains() -> None:
    assert call("list contains", [1, 2, 3], 2) is True
    assert call("list contains", [1, 2, 3], 4) is False
    assert call("list contains", [1, None], None) is True
    assert call("list contains", [1, 2], None) is False
    assert call("list contains", [[1], "a"], [1]) is True
    assert call("list contains", None, 1) is None
    with pytest.raises(FeelRuntimeError, match="list contains: list must be a list, got number"):
        call("list contains", 1, 1)


def test_count() -> None:
    assert call("count", [1, 2, 3]) == D(3)
    assert call("count", []) == D(0)
    assert call("count", [1, [2, 3]]) == D(2)
    assert call("count", list=[None]) == D(1)


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("min", ([1, 2, 3],), D(1)),
        ("min", (1,), D(1)),
        ("min", ([1],), D(1)),
        ("min", (3, 1, 2), D(1)),
        ("max", (1, 2, 3), D(3)),
        ("max", ([],), None),
        ("min", ([],), None),
        ("max", (["a", "c", "b"],), "c"),
        ("min", ([1, None],), None),
        ("sum", ([1, 2, 3],), D(6)),
        ("sum", (1, 2, 3), D(6)),
        ("sum", (1,), D(1)),
        ("sum", ([],), None),
        ("sum", ([D("0.1"), D("0.2")],), D("0.3")),
        ("mean", ([1, 2, 3],), D(2)),
        ("mean", (1, 2, 3), D(2)),
        ("mean", (1,), D(1)),
        ("mean", ([],), None),
        ("mean", ([1, 2],), D("1.5")),
        ("product", ([2, 3, 4],), D(24)),
        ("product", (2, 3, 4), D(24)),
        ("product", ([],), None),
        ("median", (8, 2, 5, 3, 4), D(4)),
        ("median", ([6, 1, 2, 3],), D("2.5")),
        ("median", ([],), None),
        ("stddev", (2, 4, 7, 5), D("2.081665999466132735282297706979931")),
        ("stddev", ([47],), None),
        ("stddev", (47,), None),
        ("stddev", ([],), None),
        ("mode", (6, 3, 9, 6, 6), n(6)),
        ("mode", ([6, 1, 9, 6, 1],), n(1, 6)),
        ("mode", ([],), []),
    ],
)
def test_aggregates(name: str, args: tuple[Any, ...], expected: Any) -> None:
    assert call(name, *args) == expected


def test_aggregates_named_and_errors() -> None:
    assert call("min", list=[3, 2]) == D(2)
    assert call("sum", list=[1, 2]) == D(3)
    with pytest.raises(FeelRuntimeError, match="sum: list item must be a number, got string"):
        call("sum", [1, "a"])
    with pytest.raises(FeelRuntimeError, match="cannot compare"):
        call("max", [1, "a"])


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("all", ([False, None, True],), False),
        ("all", (True,), True),
        ("all", ([True],), True),
        ("all", ([],), True),
        ("all", ([True, None],), None),
        ("all", (True, True, False), False),
        ("any", ([False, None, True],), True),
        ("any", (False,), False),
        ("any", ([],), False),
        ("any", ([False, None],), None),
        ("any", (False, True), True),
    ],
)
def test_all_any(name: str, args: tuple[Any, ...], expected: bool | None) -> None:
    assert call(name, *args) is expected


def test_all_any_reject_non_booleans() -> None:
    with pytest.raises(FeelRuntimeError, match="all: list items must be booleans, got number"):
        call("all", 0)
    with pytest.raises(FeelRuntimeError, match="any: list items must be booleans"):
        call("any", [False, "x"])


def test_sublist() -> None:
    assert call("sublist", [4, 5, 6], 1, 2) == n(4, 5)
    assert call("sublist", [4, 5, 6], 2) == n(5, 6)
    assert call("sublist", [4, 5, 6], -2, 1) == n(5)
    assert call("sublist", list=[4, 5, 6], start_position=2, length=1) == n(5)
    with pytest.raises(FeelRuntimeError, match="position 4 is outside"):
        call("sublist", [4, 5, 6], 4)
    with pytest.raises(FeelRuntimeError, match="position 0 is outside"):
        call("sublist", [4, 5, 6], 0)
    with pytest.raises(FeelRuntimeError, match="past the end"):
        call("sublist", [4, 5, 6], 2, 5)


def test_append_concatenate_insert_remove_reverse() -> None:
    assert call("append", [1], 2, 3) == n(1, 2, 3)
    assert call("append", [1]) == n(1)
    assert call("append", [1], None) == [D(1), None]
    assert call("concatenate", [1, 2], [3]) == n(1, 2, 3)
    assert call("concatenate", [], [1], [[2]]) == [D(1), [D(2)]]
    assert call("insert before", [1, 3], 1, 2) == n(2, 1, 3)
    assert call("insert before", [1, 3], -1, 2) == n(1, 2, 3)
    assert call("insert before", list=[1, 3], position=2, newItem=None) == [D(1), None, D(3)]
    assert call("remove", [1, 2, 3], 2) == n(1, 3)
    assert call("remove", [1, 2, 3], -1) == n(1, 2)
    assert call("reverse", [1, 2, 3]) == n(3, 2, 1)
    with pytest.raises(FeelRuntimeError, match="concatenate: list must be a list, got number"):
        call("concatenate", [1], 2)
    with pytest.raises(FeelRuntimeError, match="outside a list of 3 items"):
        call("remove", [1, 2, 3], 4)


def test_index_of_union_distinct_flatten() -> None:
    assert call("index of", [1, 2, 3, 2], 2) == n(2, 4)
    assert call("index of", [1, 2], 5) == []
    assert call("union", [1, 2], [2, 3]) == n(1, 2, 3)
    assert call("union", [D(1), D("1.0")]) == n(1)
    assert call("distinct values", [1, 2, 3, 2, 1]) == n(1, 2, 3)
    assert call("distinct values", [[1], [1], "a"]) == [[D(1)], "a"]
    assert call("flatten", [[1, 2], [[3]], 4]) == n(1, 2, 3, 4)
    assert call("flatten", []) == []


def test_list_replace() -> None:
    assert call("list replace", [2, 4, 7, 8], 3, 6) == n(2, 4, 6, 8)
    less = PyFunction(lambda item, new: compare(item, new) == -1, "item", "newItem")
    assert call("list replace", [2, 4, 7, 8], less, 5) == n(5, 5, 7, 8)
    assert call("list replace", list=[2, 4, 7, 8], match=less, newItem=5) == n(5, 5, 7, 8)
    assert call("list replace", list=[1, 2], position=-1, newItem=None) == [D(1), None]
    with pytest.raises(FeelRuntimeError, match="match must return a boolean"):
        call("list replace", [1], PyFunction(lambda a, b: "yes", "a", "b"), 5)
    with pytest.raises(FeelRuntimeError, match="match must be a function"):
        call("list replace", list=[1], match=1, newItem=2)


def test_distinct_values_keeps_feel_types_apart() -> None:
    values = [True, D(1), D("1.0"), "1", None, None, [D(1)], [D(1)], True]
    assert call("distinct values", values) == [True, D(1), "1", None, [D(1)]]
    paris = parse_temporal("2024-01-01T10:00:00@Europe/Paris")
    utc = parse_temporal("2024-01-01T09:00:00Z")
    assert call("distinct values", [paris, utc]) == [paris]
    assert call("union", [D(1), None], [None, D(2)]) == [D(1), None, D(2)]


def test_distinct_values_is_fast_for_scalars() -> None:
    many = [D(i % 100) for i in range(50_000)]
    assert call("distinct values", many) == [D(i) for i in range(100)]


def test_named_list_argument_must_be_a_list() -> None:
    with pytest.raises(FeelRuntimeError, match="sum: list must be a list, got number"):
        call("sum", list=5)
    assert call("sum", list=None) is None
