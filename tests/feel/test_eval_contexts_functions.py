"""Contexts, function definitions and invocation, closures, and names with spaces."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from flowdesk.feel import Env, FeelFunction, compile_expression, evaluate
from flowdesk.feel.runtime import Env as RuntimeEnv

D = Decimal


def ev(text: str, context: dict[str, Any] | None = None) -> Any:
    return evaluate(text, context)


def test_context_entries_see_earlier_entries() -> None:
    assert ev('{a: 1, "b c": 2, d: a + 1}') == {"a": D(1), "b c": D(2), "d": D(2)}


def test_context_entry_with_spaces_used_by_later_entry() -> None:
    assert ev('{first name: "Ann", greeting: "Hi " + first name}.greeting') == "Hi Ann"


def test_nested_context_sees_outer_entries() -> None:
    assert ev("{a: 2, b: {c: a * 10}}.b.c") == D(20)


def test_context_entry_shadows_input() -> None:
    assert ev("{x: 1, y: x + 1}.y", {"x": 100}) == D(2)


def test_function_definition_and_positional_invocation() -> None:
    assert ev("{add: function(a, b) a + b, r: add(2, 3)}.r") == D(5)


def test_named_invocation_in_any_order() -> None:
    assert ev("{f: function(a, b) a - b, r: f(b: 1, a: 10)}.r") == D(9)


def test_missing_arguments_are_null() -> None:
    assert ev("{f: function(a, b) b = null, r: f(1)}.r") is True


def test_too_many_arguments_is_null_with_diagnostic() -> None:
    env = Env()
    assert evaluate("{f: function(a) a, r: f(1, 2)}.r", env=env) is None
    assert "expected 1 arguments, got 2" in env.diagnostics.messages()[0]


def test_unknown_named_parameter_is_null_with_diagnostic() -> None:
    env = Env()
    assert evaluate("{f: function(a) a, r: f(z: 1)}.r", env=env) is None
    assert "unknown parameter 'z'" in env.diagnostics.messages()[0]


def test_typed_parameter_rejects_other_types() -> None:
    env = Env()
    assert evaluate('{f: function(a: number) a, r: f("x")}.r', env=env) is None
    assert "parameter 'a' expects number, got string" in env.diagnostics.messages()[0]
    assert ev("{f: function(a: number) a * 2, r: f(4)}.r") == D(8)


def test_closure_captures_defining_context() -> None:
    text = "{rate: 0.1, tax: function(amount) amount * rate, r: tax(200)}.r"
    assert ev(text) == D(20)


def test_closure_returned_from_function_keeps_its_scope() -> None:
    text = "{adder: function(n) function(x) x + n, add5: adder(5), r: add5(10)}.r"
    assert ev(text) == D(15)


def test_recursive_function_in_context() -> None:
    text = "{fact: function(n) if n <= 1 then 1 else n * fact(n - 1), r: fact(10)}.r"
    assert ev(text) == D(3628800)


def test_runaway_recursion_is_null_with_diagnostic() -> None:
    env = Env()
    assert evaluate("{f: function(n) f(n + 1), r: f(1)}.r", env=env) is None
    assert env.diagnostics


def test_function_value_from_context_is_a_feel_function() -> None:
    fn = ev("function(a, b) a * b")
    assert isinstance(fn, FeelFunction)
    assert fn.params == ("a", "b")
    assert fn.invoke(RuntimeEnv(), [D(3), D(4)], None) == D(12)
    assert fn.invoke(RuntimeEnv(), None, {"b": D(2), "a": D(5)}) == D(10)


def test_host_function_in_context_is_invoked() -> None:
    class Twice(FeelFunction):
        name = "twice"
        params = ("x",)

        def call(self, env: RuntimeEnv, args: list[Any]) -> Any:
            return args[0] * 2

    assert ev("twice(21)", {"twice": Twice()}) == D(42)
    assert ev("twice(x: 4)", {"twice": Twice()}) == D(8)


def test_function_parameter_names_with_spaces() -> None:
    text = "{f: function(first value, second value) first value - second value, r: f(5, 3)}.r"
    assert ev(text) == D(2)


def test_invoking_a_function_expression_directly() -> None:
    assert ev("(function(x) x * x)(7)") == D(49)


def test_names_with_spaces_from_names_parameter() -> None:
    expr = compile_expression("Applicant Age >= 18", names=["Applicant Age"])
    assert expr.evaluate({"Applicant Age": 20}) is True
    assert expr.evaluate({"Applicant Age": 17}) is False


def test_names_with_special_characters() -> None:
    names = ["Date-Time", "Income/Month", "Customer's Rating", "Net+Gross", "a.b", "Total*"]
    expr = compile_expression(
        "Income/Month * 2 + Customer's Rating + Net+Gross + a.b + Total*", names=names
    )
    ctx = {"Income/Month": 10, "Customer's Rating": 1, "Net+Gross": 2, "a.b": 3, "Total*": 4}
    assert expr.evaluate(ctx) == D(30)
    assert compile_expression("Date-Time", names=names).evaluate({"Date-Time": 5}) == D(5)


def test_name_containing_a_keyword() -> None:
    expr = compile_expression("income and costs * 2", names=["income and costs"])
    assert expr.evaluate({"income and costs": 10}) == D(20)


def test_evaluate_knows_the_names_of_its_context() -> None:
    assert ev("Monthly Income * 12", {"Monthly Income": 1000}) == D(12000)
    assert ev("Date-Time + 1", {"Date-Time": 1}) == D(2)


def test_unknown_multi_word_name_is_joined() -> None:
    assert ev("Loan Amount / 2", {"Loan Amount": 10}) == D(5)


def test_whitespace_inside_a_known_name_is_normalised() -> None:
    expr = compile_expression("Applicant   Age + 1", names=["Applicant Age"])
    assert expr.evaluate({"Applicant Age": 1}) == D(2)


def test_builtin_names_with_spaces() -> None:
    builtins = pytest.importorskip("flowdesk.feel.builtins")
    if "string length" not in builtins.BUILTINS:
        pytest.skip("string length not available")
    assert ev('string length("abcd")') == D(4)
    assert ev('upper case("abc")') == "ABC"


def test_builtin_named_invocation() -> None:
    builtins = pytest.importorskip("flowdesk.feel.builtins")
    if "substring" not in builtins.BUILTINS:
        pytest.skip("substring not available")
    assert ev('substring(string: "abcdef", start position: 2, length: 3)') == "bcd"


def test_builtin_is_a_value() -> None:
    fn = ev("not")
    assert isinstance(fn, FeelFunction)
    assert ev("{f: not, r: f(true)}.r") is False


def test_variable_does_not_hide_builtin_function() -> None:
    assert ev("not(not)", {"not": True}) is False


def test_context_keys_and_parameters_with_name_symbols() -> None:
    assert ev("{Date-Time: 5, r: Date-Time + 1}.r") == D(6)
    assert ev("{f: function(net+gross, tax/rate) net+gross * tax/rate, r: f(10, 2)}.r") == D(20)
    assert ev("{Customer's Name: \"Ann\", r: Customer's Name}.r") == "Ann"


def test_typed_parameters_coerce_singleton_lists() -> None:
    assert ev("{f: function(a: number) a + 1, r: f([4])}.r") == D(5)
    assert ev("{f: function(l: list<number>) l, r: f(4)}.r") == [D(4)]
    env = Env()
    assert evaluate("{f: function(a: number) a, r: f([1, 2])}.r", env=env) is None
    assert "expects number, got list" in env.diagnostics.messages()[0]
