"""FEEL lexer: text -> tokens with offsets, lines and columns.

Names are emitted one word at a time; the parser joins words (and the extra name symbols
`. / - ' + *`) into names with spaces when such a name is known in scope, which is how the spec
resolves its ambiguous name grammar. Keywords are plain NAME tokens checked by the parser, so
`date and time` can still be a name.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from decimal import Decimal

from flowdesk.feel.errors import FeelLimitError, FeelSyntaxError

NUMBER = "number"
STRING = "string"
NAME = "name"
OP = "op"
EOF = "end of expression"

KEYWORDS = frozenset(
    {
        "and",
        "or",
        "in",
        "if",
        "then",
        "else",
        "for",
        "return",
        "some",
        "every",
        "satisfies",
        "between",
        "instance",
        "of",
        "function",
        "external",
        "true",
        "false",
        "null",
    }
)

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<line_comment>//[^\n]*)
  | (?P<block_comment>/\*)
  | (?P<number>(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<string>")
  | (?P<name>(?:[^\W\d]|[?\U00010000-\U000EFFFF])
             (?:\w|[?\u00B7\u0300-\u036F\u203F\u2040\U00010000-\U000EFFFF])*)
  | (?P<op>\*\*|\.\.|<=|>=|!=|[-+*/=<>()\[\]{},.:@'])
    """,
    re.VERBOSE,
)

_SIMPLE_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    value: str
    start: int
    end: int
    line: int
    column: int
    number: Decimal | None = None

    def describe(self) -> str:
        if self.kind == EOF:
            return "end of expression"
        if self.kind == STRING:
            return "string literal"
        if self.kind == NUMBER:
            return f"number {self.value}"
        if self.kind == NAME:
            return f"'{self.value}'"
        return f"'{self.value}'"


class Positions:
    """Maps offsets to 1-based (line, column)."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer(r"\n", text)]

    def at(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.starts, offset) - 1
        return index + 1, offset - self.starts[index] + 1


def tokenize(text: str, *, max_string: int = 1_000_000) -> list[Token]:
    """Split `text` into tokens, ending with an EOF token. Raises FeelSyntaxError."""
    pos = Positions(text)
    tokens: list[Token] = []
    i = 0
    n = len(text)
    match = _TOKEN.match
    while i < n:
        m = match(text, i)
        if m is None:
            line, col = pos.at(i)
            raise FeelSyntaxError(
                f"expected a name, number, string or operator, found character {text[i]!r}",
                text=text,
                line=line,
                column=col,
            )
        kind = m.lastgroup
        end = m.end()
        if kind == "ws" or kind == "line_comment":
            i = end
            continue
        if kind == "block_comment":
            close = text.find("*/", end)
            if close < 0:
                line, col = pos.at(i)
                raise FeelSyntaxError(
                    "unterminated comment: expected '*/', found end of expression",
                    text=text,
                    line=line,
                    column=col,
                )
            i = close + 2
            continue
        line, col = pos.at(i)
        if kind == "string":
            value, end = _read_string(text, i, pos, max_string)
            tokens.append(Token(STRING, value, i, end, line, col))
        elif kind == "number":
            raw = m.group()
            tokens.append(Token(NUMBER, raw, i, end, line, col, number_literal(raw)))
        elif kind == "name":
            tokens.append(Token(NAME, m.group(), i, end, line, col))
        else:
            tokens.append(Token(OP, m.group(), i, end, line, col))
        i = end
    line, col = pos.at(n)
    tokens.append(Token(EOF, "", n, n, line, col))
    return tokens


def _read_string(text: str, start: int, pos: Positions, max_string: int) -> tuple[str, int]:
    """Read a string literal starting at the opening quote; return (value, end offset)."""
    out: list[str] = []
    i = start + 1
    n = len(text)
    size = 0
    while i < n:
        ch = text[i]
        if ch == '"':
            return "".join(out), i + 1
        if ch == "\\":
            if i + 1 >= n:
                break
            esc = text[i + 1]
            if esc in _SIMPLE_ESCAPES:
                out.append(_SIMPLE_ESCAPES[esc])
                i += 2
            elif esc in "uU":
                width = 4 if esc == "u" else 6
                if esc == "U":
                    eight = text[i + 2 : i + 10]
                    # The 8-digit `\U0001F600` form is preferred when it is well formed; the
                    # spec's 6-digit `\U01F600` form is used otherwise.
                    if len(eight) == 8 and _is_hex(eight) and int(eight, 16) <= 0x10FFFF:
                        width = 8
                digits = text[i + 2 : i + 2 + width]
                if len(digits) != width or not _is_hex(digits) or int(digits, 16) > 0x10FFFF:
                    line, col = pos.at(i)
                    raise FeelSyntaxError(
                        f"invalid unicode escape: expected {width} hex digits after "
                        f"'\\{esc}', found {text[i + 2 : i + 2 + width]!r}",
                        text=text,
                        line=line,
                        column=col,
                    )
                code = int(digits, 16)
                i += 2 + width
                if 0xD800 <= code <= 0xDBFF and text[i : i + 2] == "\\u":
                    low = text[i + 2 : i + 6]
                    if len(low) == 4 and _is_hex(low) and 0xDC00 <= int(low, 16) <= 0xDFFF:
                        code = 0x10000 + ((code - 0xD800) << 10) + (int(low, 16) - 0xDC00)
                        i += 6
                out.append(chr(code))
            else:
                # Not one of rule 64's escapes: kept as written, backslash included, so a
                # regular expression such as "\d+" reaches matches() / replace() / split()
                # as the author typed it (what the TCK and other engines do).
                out.append("\\" + esc)
                i += 2
        else:
            out.append(ch)
            i += 1
        size += 1
        if size > max_string:
            raise FeelLimitError(f"string literal longer than the limit of {max_string} characters")
    line, col = pos.at(start)
    raise FeelSyntaxError(
        "unterminated string literal: expected '\"', found end of expression",
        text=text,
        line=line,
        column=col,
    )


def number_literal(raw: str) -> Decimal:
    """A numeric literal (rule 35) as a Decimal; `1.2e3` is written out as 1200, like the same
    number typed without exponent, unless the exponent is absurdly large."""
    value = Decimal(raw)
    if "e" in raw or "E" in raw:
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and -1000 <= exponent <= 1000:
            return Decimal(format(value, "f"))
    return value


def _is_hex(s: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in s)
