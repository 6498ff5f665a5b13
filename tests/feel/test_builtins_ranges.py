"""Range built-ins (DMN 1.5 table 81): the spec's example table for every Allen relation, and
range(from) parsing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D
from typing import Any

import pytest

from flowdesk.feel.builtins import BUILTINS
from flowdesk.feel.errors import FeelRuntimeError
from flowdesk.feel.runtime import Env
from flowdesk.feel.values import Range, parse_temporal


def call(name: str, *args: Any, **named: Any) -> Any:
    if named:
        return BUILTINS[name].invoke(Env(), None, named)
    return BUILTINS[name].invoke(Env(), list(args), None)


def v(text: str) -> Any:
    """A range from its literal (`"[1..5)"`) or a number from its digits."""
    if text[0] in "[(]":
        return call("range", text)
    return D(text)


SPEC = """
before 1 10 true | before 10 1 false | before 1 [2..5] true | before 1 (1..5] true
before 1 [1..5] false | before [1..5] 10 true | before [1..5) 5 true | before [1..5] 5 false
before [1..5] [6..8] true | before [1..5) [5..8] true | before [1..5] (5..8] true
before [1..5] [5..8] false
after 10 1 true | after 1 10 false | after 12 [2..5] true | after 5 [2..5) true
after 3 [2..5] false | after [4..10] 3 true | after (3..10] 3 true | after [3..10] 3 false
after [6..8] [1..5] true | after (5..8] [1..5] true | after [5..8] [1..5) true
after [5..8] [1..5] false
meets [1..5] [5..10] true | meets [1..3] [4..6] false | meets [1..3] [3..5] true
meets [1..5] (5..8] false
met_by [5..10] [1..5] true | met_by [3..4] [1..2] false | met_by [3..5] [1..3] true
met_by (5..8] [1..5] false | met_by [5..8] [1..5) false
overlaps [1..5] [3..8] true | overlaps [3..8] [1..5] true | overlaps [1..8] [3..5] true
overlaps [3..5] [1..8] true | overlaps [1..5] [6..8] false | overlaps [6..8] [1..5] false
overlaps [1..5] [5..8] true | overlaps [1..5] (5..8] false | overlaps [1..5) [5..8] false
overlaps [5..8] [1..5] true | overlaps (5..8] [1..5] false | overlaps [5..8] [1..5) false
overlaps_before [1..5] [3..8] true | overlaps_before [1..5] [6..8] false
overlaps_before [1..5] [5..8] true | overlaps_before [1..5] (5..8] false
overlaps_before [1..5) [5..8] false | overlaps_before [1..5) (1..5] true
overlaps_before [1..5] (1..5] true | overlaps_before [1..5) [1..5] false
overlaps_before [1..5] [1..5] false
overlaps_after [3..8] [1..5] true | overlaps_after [6..8] [1..5] false
overlaps_after [5..8] [1..5] true | overlaps_after (5..8] [1..5] false
overlaps_after [5..8] [1..5) false | overlaps_after (1..5] [1..5) true
overlaps_after (1..5] [1..5] true | overlaps_after [1..5] [1..5) false
overlaps_after [1..5] [1..5] false
finishes 10 [1..10] true | finishes 10 [1..10) false | finishes [5..10] [1..10] true
finishes [5..10) [1..10] false | finishes [5..10) [1..10) true | finishes [1..10] [1..10] true
finishes (1..10] [1..10] true
finished_by [1..10] 10 true | finished_by [1..10) 10 false | finished_by [1..10] [5..10] true
finished_by [1..10] [5..10) false | finished_by [1..10) [5..10) true
finished_by [1..10] [1..10] true | finished_by [1..10] (1..10] true
includes [1..10] 5 true | includes [1..10] 12 false | includes [1..10] 1 true
includes [1..10] 10 true | includes (1..10] 1 false | includes [1..10) 10 false
includes [1..10] [4..6] true | includes [1..10] [1..5] true | includes (1..10] (1..10) true
includes [1..10) (5..10) true | includes [1..10] [1..10) true | includes [1..10] (1..10] true
includes [1..10] [1..10] true
during 5 [1..10] true | during 12 [1..10] false | during 1 [1..10] true | during 10 [1..10] true
during 1 (1..10] false | during 10 [1..10) false | during [4..6] [1..10] true
during [1..5] [1..10] true | during (1..5] (1..10] true | during (1..10) [1..10] true
during (5..10) [1..10) true | during [1..10) [1..10] true | during (1..10] [1..10] true
during [1..10] [1..10] true
starts 1 [1..5] true | starts 1 (1..8] false | starts 2 [1..5] false | starts 1 [1..1] true
starts [1..5] [1..5] true | starts (1..5] (1..5] true | starts (1..5] [1..6] false
starts [1..5] (1..6] false | starts [1..10] [1..10] true | starts [1..10) [1..10] true
starts (1..10) (1..10) true
started_by [1..10] 1 true | started_by (1..10] 1 false | started_by [1..10] 2 false
started_by [1..10] [1..5] true | started_by (1..10] (1..5] true
started_by [1..10] (1..5] false | started_by (1..10] [1..10) false
started_by [1..10] [1..10) true | started_by (1..10) (1..10) true
coincides 5 5 true | coincides 3 4 false | coincides [1..5] [1..5] true
coincides (1..5) [1..5] false | coincides [1..5] [2..6] false
"""

CASES = [
    tuple(case.split())
    for line in SPEC.strip().splitlines()
    for case in line.split("|")
    if case.strip()
]


@pytest.mark.parametrize(("name", "a", "b", "expected"), CASES)
def test_spec_table(name: str, a: str, b: str, expected: str) -> None:
    assert call(name.replace("_", " "), v(a), v(b)) is (expected == "true")


def test_unbounded_ranges() -> None:
    below_ten = Range(None, D(10), False, False)
    assert call("before", below_ten, D(10)) is True
    assert call("includes", below_ten, D(-(10**9))) is True
    assert call("during", Range(D(1), D(2)), below_ten) is True
    assert call("after", D(5), Range(None, D(4), False, True)) is True
    assert call("overlaps", Range(D(5), None, True, False), below_ten) is True
    assert call("coincides", below_ten, Range(None, D(10), False, False)) is True


def test_named_forms_choose_by_parameter_names() -> None:
    r = v("[2..5]")
    assert call("before", point=D(1), range=r) is True
    assert call("before", range=r, point=D(1)) is True  # same names: the (point, range) form
    assert call("before", point1=D(1), point2=D(2)) is True
    assert call("before", range1=v("[0..1]"), range2=r) is True
    assert call("before", range1=v("[1..2]"), range2=r) is False
    assert call("includes", range=r, point=D(3)) is True
    with pytest.raises(FeelRuntimeError, match="no form takes the parameters"):
        call("meets", point=D(1), range=r)
    with pytest.raises(FeelRuntimeError, match="no form for"):
        call("before", point=r, range=r)


def test_nulls_and_type_errors() -> None:
    assert call("before", None, D(1)) is None
    assert call("includes", v("[1..5]"), None) is None
    with pytest.raises(FeelRuntimeError, match="meets: no form for \\(number, range\\)"):
        call("meets", D(1), v("[1..5]"))
    with pytest.raises(FeelRuntimeError, match="cannot compare"):
        call("before", "a", D(1))
    with pytest.raises(FeelRuntimeError, match="expected 2 arguments"):
        call("before", D(1))


def test_temporal_ranges() -> None:
    jan = call("range", '[@"2024-01-01"..@"2024-02-01")')
    assert jan == Range(date(2024, 1, 1), date(2024, 2, 1), True, False)
    assert call("includes", jan, parse_temporal("2024-01-31")) is True
    assert call("after", parse_temporal("2024-02-01"), jan) is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[18..21)", Range(D(18), D(21), True, False)),
        ("(1..10]", Range(D(1), D(10), False, True)),
        ("]1..10[", Range(D(1), D(10), False, False)),
        ("[-5.5..0.5]", Range(D("-5.5"), D("0.5"), True, True)),
        ('["a".."z"]', Range("a", "z", True, True)),
        ('[date("2024-01-01")..date("2024-12-31")]', Range(date(2024, 1, 1), date(2024, 12, 31))),
        ('[duration("PT1H")..duration("PT2H")]', Range(timedelta(hours=1), timedelta(hours=2))),
        ("(..10]", Range(None, D(10), False, True)),
        ("[2..)", Range(D(2), None, True, False)),
        (" [ 1 .. 2 ] ", Range(D(1), D(2), True, True)),
    ],
)
def test_range_from_string(text: str, expected: Range) -> None:
    assert call("range", text) == expected
    assert call("range", **{"from": text}) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1..10", "is not a range literal"),
        ("[1..10", "expected"),
        ("[1,10]", "expected '..'"),
        ('[1.."a"]', "cannot compare"),
        ("[..]", "at least one endpoint"),
        ("[..10]", "must open with"),
        ("[1..]", "must close with"),
        ("[10..1]", "after its end"),
        ('[@"x"..@"y"]', "not a date"),
        # Table 71: a string outside rule 66 is null; unary tests are not range literals
        ("< 10", "is a unary test, not a range literal"),
        (">= 10", "is a unary test, not a range literal"),
        ("= 3", "is a unary test, not a range literal"),
    ],
)
def test_range_from_string_errors(text: str, message: str) -> None:
    with pytest.raises(FeelRuntimeError, match=message):
        call("range", text)
