"""Parser: precedence, node shapes and positions, names with spaces, syntax errors, limits."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flowdesk.feel import ast
from flowdesk.feel.errors import FeelLimitError, FeelSyntaxError
from flowdesk.feel.parser import parse_expression, parse_unary_tests
from flowdesk.feel.runtime import Limits


def p(text: str, names: tuple[str, ...] = ()) -> ast.Node:
    return parse_expression(text, names)


def test_multiplication_binds_tighter_than_addition() -> None:
    node = p("1 + 2 * 3")
    assert isinstance(node, ast.Arithmetic) and node.op == "+"
    assert isinstance(node.right, ast.Arithmetic) and node.right.op == "*"


def test_exponent_binds_tighter_than_multiplication() -> None:
    node = p("2 * 3 ** 2")
    assert isinstance(node, ast.Arithmetic) and node.op == "*"
    assert isinstance(node.right, ast.Arithmetic) and node.right.op == "**"


def test_subtraction_is_left_associative() -> None:
    node = p("5 - 2 - 1")
    assert isinstance(node, ast.Arithmetic)
    assert isinstance(node.left, ast.Arithmetic) and node.left.op == "-"


def test_negative_literal_is_folded() -> None:
    assert p("-5") == ast.Number(1, 1, Decimal(-5))


def test_and_binds_tighter_than_or() -> None:
    node = p("a or b and c")
    assert isinstance(node, ast.Or)
    assert isinstance(node.right, ast.And)


def test_comparison_binds_looser_than_arithmetic() -> None:
    node = p("a + 1 > b * 2")
    assert isinstance(node, ast.Comparison) and node.op == ">"


def test_between_uses_its_own_and() -> None:
    node = p("x between 1 and 5 and y")
    assert isinstance(node, ast.And)
    assert isinstance(node.left, ast.Between)


def test_path_filter_invocation_postfix_chain() -> None:
    node = p("f(1).a[item > 1].b")
    assert isinstance(node, ast.Path) and node.name == "b"
    assert isinstance(node.target, ast.Filter)
    assert isinstance(node.target.target, ast.Path)
    assert isinstance(node.target.target.target, ast.Call)


def test_node_positions() -> None:
    node = p("1 +\n  foo")
    assert isinstance(node, ast.Arithmetic)
    assert (node.right.line, node.right.column) == (2, 3)


@pytest.mark.parametrize(
    ("text", "start_included", "end_included"),
    [
        ("[1..5]", True, True),
        ("(1..5)", False, False),
        ("]1..5[", False, False),
        ("[1..5)", True, False),
    ],
)
def test_range_literals(text: str, start_included: bool, end_included: bool) -> None:
    node = p(text)
    assert isinstance(node, ast.RangeLiteral)
    assert (node.start_included, node.end_included) == (start_included, end_included)


def test_open_ended_range_value() -> None:
    node = p("<= 5")
    assert isinstance(node, ast.RangeLiteral)
    assert node.start is None and node.end_included


def test_range_end_bracket_is_not_a_filter() -> None:
    node = p("[1..x[")
    assert isinstance(node, ast.RangeLiteral) and not node.end_included
    assert node.end == ast.Name(1, 5, "x")


def test_in_with_parenthesised_tests() -> None:
    node = p("x in (1, < 5, [7..9])")
    assert isinstance(node, ast.In)
    assert len(node.tests) == 3
    assert isinstance(node.tests[1], ast.UnaryCompare)


def test_in_with_open_interval() -> None:
    node = p("x in (1..5]")
    assert isinstance(node, ast.In)
    assert isinstance(node.tests[0], ast.RangeLiteral)


def test_context_literal_keys() -> None:
    node = p('{a: 1, "b c": 2, first name: 3}')
    assert isinstance(node, ast.ContextLiteral)
    assert [k for k, _ in node.entries] == ["a", "b c", "first name"]


def test_known_name_with_spaces_and_symbols() -> None:
    assert p("Applicant Age", ("Applicant Age",)) == ast.Name(1, 1, "Applicant Age")
    assert p("Date-Time + 1", ("Date-Time",)) == ast.Arithmetic(
        1, 1, "+", ast.Name(1, 1, "Date-Time"), ast.Number(1, 13, Decimal(1))
    )


def test_unknown_hyphenated_name_is_subtraction() -> None:
    node = p("Date-Time")
    assert isinstance(node, ast.Arithmetic) and node.op == "-"


def test_known_name_containing_a_keyword() -> None:
    assert p("income and costs", ("income and costs",)) == ast.Name(1, 1, "income and costs")
    assert isinstance(p("income and costs"), ast.And)


def test_builtin_name_with_spaces() -> None:
    node = p('date and time("2024-01-01T00:00:00")')
    assert isinstance(node, ast.Call)
    assert node.function == ast.Name(1, 1, "date and time")


def test_named_arguments_with_spaces() -> None:
    node = p('substring(string: "abc", start position: 2)')
    assert isinstance(node, ast.Call) and node.named is not None
    assert [k for k, _ in node.named] == ["string", "start position"]


def test_function_definition_with_typed_parameter() -> None:
    node = p("function(a: number, b) a + b")
    assert isinstance(node, ast.FunctionDefinition)
    assert [n for n, _ in node.params] == ["a", "b"]
    assert str(node.params[0][1]) == "number" and node.params[1][1] is None


def test_for_with_range_iteration() -> None:
    node = p("for i in 1..3, j in [1, 2] return i * j")
    assert isinstance(node, ast.For)
    assert node.iterations[0].end is not None and node.iterations[1].end is None


def test_instance_of_type() -> None:
    node = p("x instance of list<context<a: number>>")
    assert isinstance(node, ast.InstanceOf)
    assert str(node.type) == "list<context<a: number>>"


def test_unary_tests_forms() -> None:
    assert isinstance(parse_unary_tests("-"), ast.AnyInput)
    node = parse_unary_tests('"a", "b"')
    assert isinstance(node, ast.UnaryTests) and len(node.tests) == 2 and not node.negated
    neg = parse_unary_tests("not(< 5, 10)")
    assert isinstance(neg, ast.UnaryTests) and neg.negated and len(neg.tests) == 2


def test_not_call_inside_unary_tests_is_an_expression() -> None:
    node = parse_unary_tests("not(true) = ?")
    assert isinstance(node, ast.UnaryTests) and not node.negated
    assert isinstance(node.tests[0], ast.Comparison)


@pytest.mark.parametrize(
    ("text", "line", "column", "expected", "found"),
    [
        ("1 +", 1, 4, "an expression", "end of expression"),
        ("1 + * 2", 1, 5, "an expression", "'*'"),
        ("(1 + 2", 1, 7, "')'", "end of expression"),
        ("[1, 2", 1, 6, "',' or ']'", "end of expression"),
        ("if a then b", 1, 12, "'else'", "end of expression"),
        ("{a: 1, }", 1, 8, "context key", "'}'"),
        ("{a 1}", 1, 4, "':' after context key", "number 1"),
        ("for x in y 5", 1, 12, "'return'", "number 5"),
        ("some x in y", 1, 12, "'satisfies'", "end of expression"),
        ("x between 1", 1, 12, "'and'", "end of expression"),
        ("1 2", 1, 3, "an operator or end of expression", "number 2"),
        ("a +\n  * 2", 2, 3, "an expression", "'*'"),
        ("[1..5", 1, 6, "']', '[' or ')'", "end of expression"),
        ("x instance of", 1, 14, "a type name", "end of expression"),
        ("@ 5", 1, 3, "a string literal after '@'", "number 5"),
    ],
)
def test_syntax_errors_say_expected_and_found_with_position(
    text: str, line: int, column: int, expected: str, found: str
) -> None:
    with pytest.raises(FeelSyntaxError) as info:
        p(text)
    err = info.value
    assert (err.line, err.column) == (line, column)
    assert expected in err.message
    assert f"found {found}" in err.message


def test_syntax_error_str_shows_line_and_caret() -> None:
    with pytest.raises(FeelSyntaxError) as info:
        p("a +\n  * 2")
    lines = str(info.value).splitlines()
    assert lines[0].startswith("FEEL syntax error at line 2, column 3")
    assert lines[1] == "    * 2"
    assert lines[2] == "    ^"


def test_duplicate_context_key_parses() -> None:
    # Not a syntax error: the context evaluates to null (tests/feel/test_conformance_classes.py).
    p("{a: 1, a: 2}")


def test_external_function_is_a_clear_error() -> None:
    with pytest.raises(FeelSyntaxError) as info:
        p('function(x) external {java: {class: "java.lang.Math", method signature: "abs(double)"}}')
    assert "external functions are not supported" in info.value.message
    assert info.value.column == 13


def test_deep_nesting_raises_limit_error_not_recursion_error() -> None:
    text = "(" * 100_000 + "1" + ")" * 100_000
    with pytest.raises(FeelLimitError, match="nested deeper"):
        p(text)


def test_nesting_limit_is_configurable() -> None:
    text = "[" * 30 + "1" + "]" * 30
    parse_expression(text, limits=Limits(max_depth=40))
    with pytest.raises(FeelLimitError):
        parse_expression(text, limits=Limits(max_depth=20))


def test_deep_unary_minus_and_contexts_are_limited() -> None:
    with pytest.raises(FeelLimitError):
        p("-" * 5000 + "x")
    with pytest.raises(FeelLimitError):
        p("{a: " * 5000 + "1" + "}" * 5000)


def test_unknown_name_may_contain_of() -> None:
    assert p("Level of risk") == ast.Name(1, 1, "Level of risk")
    assert isinstance(p("x instance of number"), ast.InstanceOf)


def test_empty_unary_tests_mean_any() -> None:
    assert isinstance(parse_unary_tests("  "), ast.AnyInput)
    assert isinstance(parse_unary_tests("-"), ast.AnyInput)
    assert isinstance(parse_unary_tests(" - "), ast.AnyInput)
