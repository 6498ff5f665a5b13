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
