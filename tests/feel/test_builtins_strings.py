"""String built-ins (DMN 1.5 table 72) including XPath regex semantics."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from flowdesk.feel.builtins import BUILTINS
from flowdesk.feel.errors import FeelRuntimeError
from flowdesk.feel.runtime import Env, Limits
from flowdesk.feel.values import to_feel


def call(name: str, *args: Any, **named: Any) -> Any:
    if named:
        params = {k.replace("_", " "): to_feel(v) for k, v in named.items()}
        return BUILTINS[name].invoke(Env(), None, params)
    return BUILTINS[name].invoke(Env(), [to_feel(a) for a in args], None)


HORSE = "\U0001f40e"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("foobar", 3), "obar"),
        (("foobar", 3, 3), "oba"),
        (("foobar", -2, 1), "a"),
        ((HORSE + "ab", 2), "ab"),
        (("foobar", -2), "ar"),
        (("foobar", 1, 0), ""),
        (("foobar", 7), ""),
        (("foobar", 5, 10), "ar"),
        (("foobar", -10, 6), "fo"),
        (("foobar", 0, 2), "f"),
        (("foobar", D("1.5"), 2), "fo"),  # Table 67: integers; TCK 1103 truncates
        (("foobar", 3, D("3.8")), "oba"),
    ],
)
def test_substring(args: tuple[Any, ...], expected: str) -> None:
    assert call("substring", *args) == expected


def test_substring_named_null_and_errors() -> None:
    assert call("substring", string="foobar", start_position=3) == "obar"
    assert call("substring", string="foobar", start_position=3, length=3) == "oba"
    assert call("substring", None, 1) is None
    assert call("substring", "abc", None) is None
    with pytest.raises(
        FeelRuntimeError, match="substring: start position must be a number, got string"
    ):
        call("substring", "abc", "1")
    with pytest.raises(FeelRuntimeError, match="substring: string must be a string, got number"):
        call("substring", 12, 1)
    with pytest.raises(FeelRuntimeError, match="unknown parameter 'start'"):
        call("substring", string="abc", start=1)
    with pytest.raises(FeelRuntimeError, match="wrong number of arguments"):
        call("substring", "abc")


def test_string_length_and_case() -> None:
    assert call("string length", "foo") == D(3)
    assert call("string length", HORSE + "ab") == D(3)
    assert call("string length", "") == D(0)
    assert call("upper case", "aBc4") == "ABC4"
    assert call("lower case", "aBc4") == "abc4"
    assert call("upper case", None) is None
    with pytest.raises(FeelRuntimeError, match="string must be a string, got boolean"):
        call("lower case", True)


def test_substring_before_after() -> None:
    assert call("substring before", "foobar", "bar") == "foo"
    assert call("substring before", "foobar", "xyz") == ""
    assert call("substring after", "foobar", "ob") == "ar"
    assert call("substring after", "", "a") == ""
    assert call("substring after", "foo", "") == "foo"
    assert call("substring before", "foo", "") == ""
    assert call("substring after", string="foobar", match="ob") == "ar"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("abcd", "(ab)|(a)", "[1=$1][2=$2]"), "[1=ab][2=]cd"),
        (("0123456789", r"(\d{3})(\d{3})(\d{4})", "($1) $2-$3"), "(012) 345-6789"),
        (("abracadabra", "bra", "*"), "a*cada*"),
        (("abracadabra", "a.*a", "*"), "*"),
        (("abracadabra", "a.*?a", "*"), "*c*bra"),
        (("abracadabra", "a", ""), "brcdbr"),
        (("darted", "^(.*?)d(.*)$", "$1c$2"), "carted"),
        (("a.b.c", ".", "-", "q"), "a-b-c"),
        (("a.b", ".", "$0", "q"), "a$0b"),
        (("a.b", "A", "x", "i"), "x.b"),
        (("price 5", "5", r"\$5"), "price $5"),
        (("abc", "b", "$12"), "a2c"),
        (("abc", "(b)", "[$1]"), "a[b]c"),
        (("a\nb", "a.b", "x", "s"), "x"),
        (("a\nb", "a.b", "x"), "a\nb"),
        (("ab cd", "b c", "X", "x"), "ab cd"),
        (("abcd", "b c", "X", "x"), "aXd"),
        (("abc", "x*", "-"), "-a-b-c-"),
    ],
)
def test_replace(args: tuple[Any, ...], expected: str) -> None:
    assert call("replace", *args) == expected


def test_replace_errors() -> None:
    with pytest.raises(FeelRuntimeError, match="unknown regex flag 'g'"):
        call("replace", "abc", "b", "x", "g")
    with pytest.raises(FeelRuntimeError, match="invalid pattern"):
        call("replace", "abc", "(b", "x")
    with pytest.raises(FeelRuntimeError, match=r"'\$' in a replacement"):
        call("replace", "abc", "b", "$x")
    with pytest.raises(FeelRuntimeError, match=r"'\(\?' is only allowed"):
        call("replace", "abc", "(?P<n>b)", "x")
    with pytest.raises(FeelRuntimeError, match="not supported"):
        call("replace", "abc", r"\p{Lu}", "x")
    assert call("replace", None, "a", "b") is None
    env = Env(limits=Limits(max_string=10))
    with pytest.raises(FeelRuntimeError, match="exceeds 10"):
        BUILTINS["replace"].invoke(env, ["x" * 11, "x", "y"], None)


def test_contains_starts_ends() -> None:
    assert call("contains", "foobar", "of") is False
    assert call("contains", "foobar", "oba") is True
    assert call("starts with", "foobar", "fo") is True
    assert call("ends with", "foobar", "r") is True
    assert call("ends with", "foobar", "o") is False
    assert call("contains", None, "a") is None
    with pytest.raises(FeelRuntimeError, match="contains: match must be a string, got number"):
        call("contains", "abc", 1)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("foobar", "^fo*b"), True),
        (("foobar", "^fo*x"), False),
        (("FooBar", "foo", "i"), True),
        (("a\nb", "^b$", "m"), True),
        (("a\nb", "^b$"), False),
        (("abc\n", "c$"), False),
        (("a.c", "a.c", "q"), True),
        (("abc", "a.c", "q"), False),
    ],
)
def test_matches(args: tuple[Any, ...], expected: bool) -> None:
    assert call("matches", *args) is expected


def test_split() -> None:
    assert call("split", "John Doe", r"\s") == ["John", "Doe"]
    assert call("split", "a;b;c;;", ";") == ["a", "b", "c", "", ""]
    assert call("split", "a1b22c", r"(\d)+") == ["a", "b", "c"]
    assert call("split", "", ",") == []
    assert call("split", ",", ",") == ["", ""]
    with pytest.raises(FeelRuntimeError, match="matches the empty string"):
        call("split", "abc", "x*")


def test_string_join() -> None:
    assert call("string join", ["a", "b", "c"], "_and_") == "a_and_b_and_c"
    assert call("string join", ["a", "b", "c"], "") == "abc"
    assert call("string join", ["a", None, "c"], "X") == "aXc"
    assert call("string join", [], "X") == ""
    assert call("string join", ["a", "b", "c"]) == "abc"
    assert call("string join", list=["a"], delimiter=",") == "a"
    with pytest.raises(FeelRuntimeError, match="list items must be strings, got number"):
        call("string join", ["a", 1])


def test_extract() -> None:
    assert call("extract", "references are 1234, 1256, 1378", "12[0-9]*") == ["1234", "1256"]
    assert call("extract", "none here", r"\d+") == []
