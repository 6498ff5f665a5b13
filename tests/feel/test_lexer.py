"""Lexer: token kinds, numbers, string escapes, comments, positions and lexical errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flowdesk.feel.errors import FeelLimitError, FeelSyntaxError
from flowdesk.feel.lexer import EOF, NAME, NUMBER, OP, STRING, tokenize


def kinds(text: str) -> list[tuple[str, str]]:
    return [(t.kind, t.value) for t in tokenize(text)[:-1]]


def test_numbers_including_leading_dot() -> None:
    toks = tokenize("12 3.25 .5")
    assert [t.number for t in toks[:-1]] == [Decimal("12"), Decimal("3.25"), Decimal(".5")]
    assert all(t.kind == NUMBER for t in toks[:-1])


def test_range_dots_are_not_a_decimal_point() -> None:
    assert kinds("1..5") == [(NUMBER, "1"), (OP, ".."), (NUMBER, "5")]


def test_operators_longest_match() -> None:
    assert [v for _, v in kinds("** <= >= != .. < > = - + * /")] == [
        "**",
        "<=",
        ">=",
        "!=",
        "..",
        "<",
        ">",
        "=",
        "-",
        "+",
        "*",
        "/",
    ]


def test_names_are_single_words_and_keywords_are_names() -> None:
    assert kinds("date and time") == [(NAME, "date"), (NAME, "and"), (NAME, "time")]
    assert kinds("_x1 ?") == [(NAME, "_x1"), (NAME, "?")]


def test_unicode_letters_in_names() -> None:
    assert kinds("größe") == [(NAME, "größe")]


@pytest.mark.parametrize(
    ("source", "value"),
    [
        (r'"a\"b"', 'a"b'),
        (r'"line\nbreak"', "line\nbreak"),
        (r'"tab\t"', "tab\t"),
        (r'"back\\slash"', "back\\slash"),
        (r'"\u0041"', "A"),
        (r'"\U0001F600"', "\U0001f600"),
        (r'"\U01F600"', "\U0001f600"),
        (r'"\ud83d\ude00"', "\U0001f600"),
        ('"multi\nline"', "multi\nline"),
    ],
)
def test_string_escapes(source: str, value: str) -> None:
    tok = tokenize(source)[0]
    assert tok.kind == STRING
    assert tok.value == value


def test_comments_are_skipped() -> None:
    assert kinds("1 // rest of line\n+ /* block\ncomment */ 2") == [
        (NUMBER, "1"),
        (OP, "+"),
        (NUMBER, "2"),
    ]


def test_positions_are_one_based_lines_and_columns() -> None:
    toks = tokenize("a +\n  bb")
    assert [(t.line, t.column) for t in toks] == [(1, 1), (1, 3), (2, 3), (2, 5)]
    assert toks[-1].kind == EOF


def test_unterminated_string() -> None:
    with pytest.raises(FeelSyntaxError) as info:
        tokenize('x + "abc')
    assert (info.value.line, info.value.column) == (1, 5)
    assert "unterminated string" in info.value.message


def test_unterminated_block_comment() -> None:
    with pytest.raises(FeelSyntaxError) as info:
        tokenize("1 /* never closed")
    assert info.value.column == 3
    assert "'*/'" in info.value.message


def test_unexpected_character() -> None:
    with pytest.raises(FeelSyntaxError) as info:
        tokenize("1 +\n 2 # 3")
    assert (info.value.line, info.value.column) == (2, 4)
    assert "'#'" in info.value.message


def test_escape_outside_rule_64_is_kept_for_regular_expressions() -> None:
    # Rule 64 lists \' \" \\ \n \r \t and code points; anything else stays as written so
    # "\d" reaches matches() as the XML Schema escape the author meant.
    assert tokenize(r'"\q\d\s"')[0].value == r"\q\d\s"


def test_bad_unicode_escape() -> None:
    with pytest.raises(FeelSyntaxError, match="hex digits"):
        tokenize(r'"\u12"')


def test_string_literal_limit() -> None:
    tokenize('"abcde"', max_string=5)
    with pytest.raises(FeelLimitError, match="limit of 5"):
        tokenize('"abcdef"', max_string=5)
