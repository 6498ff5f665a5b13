"""Context built-ins (DMN 1.5 table 80), sort(list, precedes), and the shared overload and
named-argument machinery every built-in uses."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import pytest

from flowdesk.feel.builtins import BUILTINS
from flowdesk.feel.errors import FeelRuntimeError
from flowdesk.feel.runtime import Env, FeelFunction
from flowdesk.feel.values import compare, to_feel


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


def test_get_value() -> None:
    assert call("get value", {"key1": "value1"}, "key1") == "value1"
    assert call("get value", {"key1": "value1"}, "unexistent-key") is None
    assert call("get value", {"a": {"b": 1}}, ["a", "b"]) == D(1)
    assert call("get value", {"a": {"b": 1}}, ["a", "x", "y"]) is None
    assert call("get value", m={"a": 1}, key="a") == D(1)
    assert call("get value", None, "a") is None
    with pytest.raises(FeelRuntimeError, match="get value: m must be a context, got list"):
        call("get value", [1], "a")
    with pytest.raises(FeelRuntimeError, match="key must be a string or a list of strings"):
        call("get value", {"a": 1}, 1)


def test_get_entries() -> None:
    assert call("get entries", {"key1": "value1"}) == [{"key": "key1", "value": "value1"}]
    assert call("get entries", {}) == []
    assert call("get entries", m={"a": 1, "b": 2}) == [
        {"key": "a", "value": D(1)},
        {"key": "b", "value": D(2)},
    ]


def test_context() -> None:
    entries = [{"key": "a", "value": 1}, {"key": "b", "value": 2}]
    assert call("context", entries) == {"a": D(1), "b": D(2)}
    assert call("context", [{"key": "a", "value": None}]) == {"a": None}
    assert call("context", entries=[]) == {}
    assert call("context", {"key": "a", "value": 1}) == {"a": D(1)}
    with pytest.raises(FeelRuntimeError, match="duplicate key 'a'"):
        call("context", [{"key": "a", "value": 1}, {"key": "a", "value": 2}])
    with pytest.raises(FeelRuntimeError, match="'key' and 'value'"):
        call("context", [{"name": "a", "value": 1}])
    with pytest.raises(FeelRuntimeError, match="entry key must be a string"):
        call("context", [{"key": 1, "value": 1}])


def test_context_put() -> None:
    original = to_feel({"x": 1})
    assert call("context put", original, "y", 0) == {"x": D(1), "y": D(0)}
    assert original == {"x": D(1)}, "the argument is not mutated"
    result = call("context put", {"x": 1, "y": 0}, "x", 2)
    assert result == {"x": D(2), "y": D(0)}
    assert list(result) == ["x", "y"], "an existing entry keeps its position"
    assert call("context put", {"x": 1, "y": {"a": 0}}, ["y", "a"], 3) == {
        "x": D(1),
        "y": {"a": D(3)},
    }
    assert call("context put", context={"x": 1}, keys=["x"], value=None) == {"x": None}
    assert call("context put", context={"x": 1}, key="z", value=1) == {"x": D(1), "z": D(1)}
    assert call("context put", None, "a", 1) is None
    with pytest.raises(FeelRuntimeError, match="must not be empty"):
        call("context put", {"x": 1}, [], 1)
    with pytest.raises(FeelRuntimeError, match="entry 'x' is not a context"):
        call("context put", {"x": 1}, ["x", "y"], 1)


def test_context_merge() -> None:
    assert call("context merge", [{"x": 1}, {"y": 2}]) == {"x": D(1), "y": D(2)}
    assert call("context merge", [{"x": 1, "y": 0}, {"y": 2}]) == {"x": D(1), "y": D(2)}
    assert call("context merge", contexts=[]) == {}
    with pytest.raises(FeelRuntimeError, match="contexts item must be a context, got number"):
        call("context merge", [{"x": 1}, 2])


def test_sort() -> None:
    less = PyFunction(lambda x, y: compare(x, y) == -1, "x", "y")
    greater = PyFunction(lambda x, y: compare(x, y) == 1, "x", "y")
    assert call("sort", [3, 1, 4, 5, 2], less) == [D(i) for i in (1, 2, 3, 4, 5)]
    assert call("sort", list=[3, 1, 4, 5, 2], precedes=greater) == [D(i) for i in (5, 4, 3, 2, 1)]
    assert call("sort", ["b", "a"]) == ["a", "b"]
    assert call("sort", [], less) == []
    by_age = PyFunction(lambda a, b: compare(a["age"], b["age"]) == -1, "a", "b")
    people = [{"n": "x", "age": 30}, {"n": "y", "age": 20}, {"n": "z", "age": 30}]
    assert [p["n"] for p in call("sort", people, by_age)] == ["y", "x", "z"], "stable"
    with pytest.raises(FeelRuntimeError, match="precedes must return a boolean"):
        call("sort", [1, 2], PyFunction(lambda x, y: None, "x", "y"))
    with pytest.raises(FeelRuntimeError, match="precedes must be a function, got number"):
        call("sort", [1, 2], 1)


def test_every_builtin_has_spec_parameter_names() -> None:
    assert BUILTINS["substring"].params == ("string", "start position", "length")
    assert BUILTINS["insert before"].params == ("list", "position", "newItem")
    assert BUILTINS["number"].params == ("from", "grouping separator", "decimal separator")
    assert BUILTINS["years and months duration"].params == ("from", "to")
    assert BUILTINS["before"].params == ("point1", "point2")
    for name, fn in BUILTINS.items():
        assert fn.name == name
        assert isinstance(fn, FeelFunction)


def test_call_goes_through_positional_binding() -> None:
    assert BUILTINS["string length"].call(Env(), ["abc"]) == D(3)


def test_arity_errors_describe_the_forms() -> None:
    with pytest.raises(
        FeelRuntimeError, match=r"expected date\(from\) or date\(year, month, day\)"
    ):
        call("date", 1, 2)
    with pytest.raises(FeelRuntimeError, match=r"substring\(string, start position, length\?\)"):
        call("substring", "a", 1, 2, 3)
