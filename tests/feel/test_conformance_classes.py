"""FEEL behaviour classes the DMN TCK checks, each written from the DMN 1.5 text (chapter 10:
grammar rules, 10.3.2 semantics, 10.3.4 built-in function tables); the rule or section is named
on each test."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flowdesk.feel import Env, evaluate


def feel(text: str) -> object:
    return evaluate(text, {}, env=Env())


# Rule 35 and 10.3.2.3.1: "FEEL supports literal scientific notation, e.g., 1.2e3, which is
# equivalent to 1.2*10**3."
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.2e3", Decimal(1200)),
        ("1.2E3 = 1.2*10**3", True),
        ("1e-2", Decimal("0.01")),
        (".5e+1", Decimal(5)),
        ("-2.5e2", Decimal(-250)),
        ("2e1 in [1..20]", True),
    ],
)
def test_number_literals_with_exponent(text: str, value: object) -> None:
    assert feel(text) == value


# Rule 64 lists the escapes of a string literal; matches/replace/split take XML Schema regular
# expressions (10.3.4.3), whose escapes \d \s \w must reach the pattern as written.
@pytest.mark.parametrize(
    ("text", "value"),
    [
        (r'matches("a b", "a\sb")', True),
        (r'matches("a1", "^a\d$")', True),
        (r'matches("ab", "^a\d$")', False),
        (r'replace("a1b22", "\d+", "#")', "a#b#"),
        (r'split("a1b2c", "\d")', ["a", "b", "c"]),
        (r'string length("\d")', Decimal(2)),
        (r'"\n" = "' + "\n" + '"', True),
    ],
)
def test_regex_escapes_in_string_literals(text: str, value: object) -> None:
    assert feel(text) == value


# Rule 28: name start char includes [\u10000-\uEFFFF]; 10.3.2.3.2: "\U01F40E" is one character.
def test_astral_plane_characters_in_names_and_strings() -> None:
    assert evaluate("🐎 + 1", {"🐎": Decimal(1)}) == 2
    assert feel("{🐎: 2}.🐎") == 2
    assert feel('string length("\\U01F40E")') == 1
    assert feel('"\\U01F40E" = "🐎"') is True


def _diagnosed_null(text: str) -> list[str]:
    env = Env()
    assert evaluate(text, {}, env=env) is None
    return env.diagnostics.messages()


# 10.3.2.6 Context: "the keys ... must be unique"; a context that breaks it is null (an error
# at run time, with a diagnostic), not a model that cannot load.
def test_duplicate_context_keys_give_null() -> None:
    assert "duplicate context key 'a'" in _diagnosed_null("{a: 1, a: 2}")[0]
    assert feel('{a: 1, "a": 2} = null') is True
    assert feel("{a: 1, b: a + 1}.b") == 2


# 10.3.2.9.x "in": a list on the right is a list of positive unary tests; an item that is a
# range tests by inclusion.
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1 in [[2..4], [1..3]]", True),
        ("5 in [[2..4], [1..3]]", False),
        ('"b" in [["f".."h"], ["a".."c"]]', True),
        ("1 in [2, 3, 1]", True),
        ("10 in (1, < 5, >= 10)", True),
    ],
)
def test_in_with_a_list_of_ranges(text: str, value: object) -> None:
    assert feel(text) == value


# 10.3.4.1 date(from): "from" follows the XML Schema date lexical form, whose yearFrag has
# four digits or more without a leading zero.
def test_date_year_with_a_leading_zero_and_five_digits_is_null() -> None:
    assert _diagnosed_null('date("01211-12-31")')
    assert feel('date("1211-12-31")') == feel("date(1211, 12, 31)")


# duration(from): the XML Schema duration secondFrag allows "0." (digits, point, no fraction).
def test_duration_seconds_with_a_trailing_point() -> None:
    assert feel('duration("PT0.S") = duration("PT0S")') is True
    assert feel('duration("PT1.S")') == feel('duration("PT1S")')


# Rule 63 iteration context: `2..1` counts down; a range value `[2..1]` (start after end) is
# not something to iterate, so the for expression is null.
def test_for_over_a_descending_range_value_is_null() -> None:
    assert feel("for i in 2..1 return i") == [2, 1]
    assert _diagnosed_null("for i in [2..1] return i")
    assert feel("for i in [1..3) return i") == [1, 2]


# Table 71 range(from): "If range string does not conform with grammar rule 66, the result is
# null"; rule 66 b/c give a missing endpoint an open bracket. The examples of the table:
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('range("[18..21)") = [18..21)', True),
        ('range("[2..)") = >= 2', True),
        ('range("(..2)") = < 2', True),
        ('range("")', None),
        ('range("[..]")', None),
        ('range("[..2]")', None),
        ('range("[1..]")', None),
        ('range("[10..1]")', None),
        ('range("[1e1..2e1]") = [10..20]', True),
        ('range(">=10")', None),  # a unary test is not a rule 66 range literal
        ('range("<2")', None),
    ],
)
def test_range_function_edge_cases(text: str, value: object) -> None:
    assert feel(text) == value


# Table 77 is(value1, value2): the examples of the table, positional and named.
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('is(date("2012-12-25"), time("23:00:50"))', False),
        ('is(date("2012-12-25"), date("2012-12-25"))', True),
        ('is(time("23:00:50z"), time("23:00:50"))', False),
        ('is(time("23:00:50z"), time("23:00:50+00:00"))', True),
        ('is(value1: time("23:00:50z"), value2: time("23:00:50+00:00"))', True),
        ('is(value2: 1, value1: "1")', False),
    ],
)
def test_is_function_with_positional_and_named_parameters(text: str, value: object) -> None:
    assert feel(text) == value


# Tables 74 and 75, footnote 1: a position "must be a non-zero integer (0 scale number)";
# where it is not, the result is null.
@pytest.mark.parametrize(
    "text",
    ["sublist([1, 2, 3], 1.5)", "insert before([1, 3], 1.5, 2)", "remove([1, 2, 3], 2.5)"],
)
def test_non_integer_positions_give_null(text: str) -> None:
    assert _diagnosed_null(text)


# 10.3.2.3.4: valuet(t) is the number of seconds since midnight, and times with an offset are
# compared "as described in XML Schema Part 2", which places every time on one reference day
# before moving it to UTC: nothing wraps around midnight, so 10:10:10+11:00 stays an hour before
# 11:10:10+11:00 and their difference is -PT1H, as for two local times.
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('time("10:10:10+11:00") < time("11:10:10+11:00")', True),
        ('time("10:10:10+11:00") - time("11:10:10+11:00") = duration("-PT1H")', True),
        ('time("11:10:10+11:00") - time("10:10:10+11:00") = duration("PT1H")', True),
        ('time("01:00:00+02:00") < time("00:30:00Z")', True),
        ('time("10:10:10") - time("11:10:10") = duration("-PT1H")', True),
        ('time("12:00:00+01:00") = time("11:00:00Z")', True),
    ],
)
def test_times_with_offsets_do_not_wrap_at_midnight(text: str, value: object) -> None:
    assert feel(text) == value


# 10.3.2.3.5: "When a date value is subject to implicit conversions it is considered to be
# equivalent to a date time value in which the time of day is UTC midnight"; subtracting a
# local date and time and a UTC one is undefined (Table 57: both or neither have a time zone).
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('@"2021-01-02T00:00:00Z" - @"2021-01-02" = @"PT0S"', True),
        ('@"2021-01-02T10:00:00+01:00" - @"2021-01-01" = @"P1DT9H"', True),
        ('@"2021-01-02" - @"2021-01-01T10:00:00+11:00" = @"P1DT1H"', True),
        ('@"2021-01-01T00:00:00" - @"2021-01-02"', None),
        ('@"2021-01-02" - @"2021-01-01T10:10:10"', None),
    ],
)
def test_a_date_converted_to_date_and_time_is_utc_midnight(text: str, value: object) -> None:
    assert feel(text) == value


# Table 54: for date and time and for time, "if one input has a null timezone offset, that
# input uses the timezone offset of the other input" (equality, Table 53, has no such rule).
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('@"2018-12-08T00:00:00" < @"2018-12-08T01:00:00@Asia/Dhaka"', True),
        ('@"2018-12-08T02:00:00" > @"2018-12-08T01:00:00+05:00"', True),
        ('@"2018-12-08T01:00:00+05:00" >= @"2018-12-08T01:00:00"', True),
        ('time("10:00:00") < time("11:00:00+02:00")', True),
        ('time("12:00:00") <= time("11:00:00Z")', False),
        ('@"2018-12-08T00:00:00" = @"2018-12-08T00:00:00@Asia/Dhaka"', None),
    ],
)
def test_order_of_a_local_and_a_zoned_value(text: str, value: object) -> None:
    assert feel(text) == value


# Rule 7.a (DMN 1.5) lists "=" and "!=" among the operators of a simple positive unary test,
# and rule 2.h makes such a test an expression: a range whose properties (Table 67) carry the
# operand as both endpoints.
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("(=10).start", Decimal(10)),
        ("(=10).end included", True),
        ("(!=10).start included", False),
        ("(!=10).end", Decimal(10)),
        ("10 in (=10)", True),
        ("5 in (=10)", False),
        ("5 in != 10", True),
        ("10 in (!=10)", False),
    ],
)
def test_equality_operators_as_simple_unary_tests(text: str, value: object) -> None:
    assert feel(text) == value


# 10.3.2.9.2: a function type conforms when each parameter type of the target conforms to the
# function's own (contravariant) and the result conforms (covariant); context types conform
# with more keys. Table 61 maps `instance of` onto this relation.
@pytest.mark.parametrize(
    ("text", "value"),
    [
        (
            '(function(a: context<a: string>) "x") instance of '
            "function<context<a: string, b: string>>->Any",
            True,
        ),
        (
            '(function(a: context<a: string, b: string>) "x") instance of '
            "function<context<a: string>>->Any",
            False,
        ),
        ("(function(a: list<number>) 1) instance of function<list<number>>->Any", True),
        ("(function(a: string) 1) instance of function<number>->Any", False),
        ("(function(a: Any) 1) instance of function<date>->Any", True),
    ],
)
def test_function_type_conformance_is_contravariant_in_parameters(text: str, value: object) -> None:
    assert feel(text) == value


# Table 80 (context functions): `context put(context, key, value)` takes one key, a string;
# `context put(context, keys, value)` a list of keys. Named, the parameter name picks the form.
# 10.3.2.9.4 (to singleton list): a value where a list of it is expected is that singleton list.
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('context put(context: {y: {a: 0}}, keys: ["y", "a"], value: 2)', {"y": {"a": 2}}),
        ('context put({y: {a: 0}}, ["y", "a"], 2)', {"y": {"a": 2}}),
        ('context put(context: {}, key: "a", value: 1)', {"a": 1}),
        ('context put(context: {y: {a: 0}}, key: ["y", "a"], value: 2)', None),
        ('context merge({"a": 1})', {"a": 1}),
        ('context merge(contexts: {"a": 1})', {"a": 1}),
        ("context merge([1, 2])", None),
    ],
)
def test_context_put_forms_and_context_merge_of_one_context(text: str, value: object) -> None:
    assert feel(text) == value


# Table 75 (list replace): "match: function(item, newItem) -> boolean"; a function of another
# arity does not conform to that type (10.3.2.9.2). One item is a singleton list (10.3.2.9.4).
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("list replace([2, 4], function(item, newItem) item = 2, 5)", [5, 4]),
        ("list replace([2, 4], function(item, newItem, extra) item = 2, 5)", None),
        ("list replace([2, 4], function(item) item = 2, 5)", None),
        ("list replace(1, 1, 5)", [5]),
        ("list replace(null, 1, 5)", None),
    ],
)
def test_list_replace_match_arity_and_a_single_item(text: str, value: object) -> None:
    assert feel(text) == value


# 10.3.4.3 (Table 65): matches/replace take XML Schema regular expressions with the XPath 3.1
# flags. XML Schema class subtraction `[A-Z-[OI]]` is the class minus the subtracted one; with
# flag x whitespace is removed before the pattern is read (except inside a class), so `\ s`
# is `\s`; a back-reference inside a class, or `\0`, is not XML Schema syntax (null).
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('matches("X", "[A-Z-[OI]]")', True),
        ('matches("O", "[A-Z-[OI]]")', False),
        ('matches("i", "[A-Z-[OI]]", "i")', False),
        ('matches("x", "^[a-z-[aeiou]]$")', True),
        ('matches("e", "^[a-z-[aeiou]]$")', False),
        (r'matches("hello world", "hello\ sworld", "x")', True),
        ('matches("hello world", "he ll o[ ]worl d", "x")', True),
        (r'matches("abcd", "(asd)[\1]")', None),
        (r'matches("abcd", "1[asd\0]")', None),
    ],
)
def test_xml_schema_regex_subtraction_flag_x_and_class_escapes(text: str, value: object) -> None:
    assert feel(text) == value
