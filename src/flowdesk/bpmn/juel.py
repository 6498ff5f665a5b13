"""Translate the usual Camunda 7 JUEL gateway expressions to FEEL when a model is deployed.

Camunda Modeler users write ``${amount > 100 && vip}``. Flowdesk evaluates FEEL only, so the
common, side-effect free subset (literals, variables, property access, comparison, logic,
arithmetic, ``empty``) is translated once; anything else (method calls, beans, ternaries ...) is
refused with the column of the problem, so nothing is silently evaluated differently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>\d+(?:\.\d+)?)
    | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<op>&&|\|\||==|!=|<=|>=|[<>!+\-*/%().\[\]])
    | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
    )""",
    re.VERBOSE,
)

_WORD_OPS = {
    "and": "&&",
    "or": "||",
    "not": "!",
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "gt": ">",
    "le": "<=",
    "ge": ">=",
    "div": "/",
    "mod": "%",
}
_BINARY = {
    "||": (1, "or"),
    "&&": (2, "and"),
    "==": (3, "="),
    "!=": (3, "!="),
    "<": (4, "<"),
    ">": (4, ">"),
    "<=": (4, "<="),
    ">=": (4, ">="),
    "+": (5, "+"),
    "-": (5, "-"),
    "*": (6, "*"),
    "/": (6, "/"),
}


class JuelError(ValueError):
    """A JUEL expression outside the translatable subset; ``column`` is 1-based in the text."""

    def __init__(self, message: str, column: int) -> None:
        self.column = column
        super().__init__(message)


@dataclass(slots=True)
class _Tok:
    kind: str  # num, str, op, name, end
    text: str
    column: int


def is_juel(text: str) -> bool:
    stripped = text.strip()
    return (stripped.startswith("${") or stripped.startswith("#{")) and stripped.endswith("}")


def juel_to_feel(text: str) -> str:
    """``${a == 'x' || !b}`` -> ``(a = "x") or (not(b))``. Raises JuelError."""
    stripped = text.strip()
    if not is_juel(stripped):
        raise JuelError("not a single ${...} expression (text around or between expressions)", 1)
    parts = _template_parts(stripped)
    if len(parts) != 1:
        raise JuelError("composite JUEL templates are not supported here", 1)
    return _translate(stripped[2:-1], text.index(stripped) + 3)


def template_to_feel(text: str) -> str:
    """A value with text around or between expressions (``${base}/customers/${id}``, as Camunda
    7 connector URLs and mapping values are written) -> a FEEL string concatenation; a single
    ``${...}`` keeps its type, as in JUEL. Raises JuelError."""
    stripped = text.strip()
    shift = text.index(stripped) if stripped else 0
    parts = [(k, b, c + shift) for k, b, c in _template_parts(stripped)]
    if len(parts) == 1 and parts[0][0] == "expr":
        return _translate(parts[0][1], parts[0][2])
    return _template(parts)


def _template_parts(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, column) pieces: literal text and ${...} / #{...} bodies (quote-aware)."""
    parts: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        start = min((i for i in (text.find("${", pos), text.find("#{", pos)) if i >= 0), default=-1)
        if start < 0:
            parts.append(("text", text[pos:], pos + 1))
            break
        if start > pos:
            parts.append(("text", text[pos:start], pos + 1))
        i, quote = start + 2, ""
        while i < len(text):
            ch = text[i]
            if quote:
                if ch == "\\":
                    i += 1
                elif ch == quote:
                    quote = ""
            elif ch in "'\"":
                quote = ch
            elif ch == "}":
                break
            i += 1
        if i >= len(text):
            raise JuelError("unterminated ${...} expression", start + 1)
        parts.append(("expr", text[start + 2 : i], start + 3))
        pos = i + 1
    return parts


def _template(parts: list[tuple[str, str, int]]) -> str:
    pieces: list[str] = []
    for kind, body, column in parts:
        if kind == "text":
            if body:
                pieces.append('"' + body.replace("\\", "\\\\").replace('"', '\\"') + '"')
        else:
            pieces.append(f"string({_translate(body, column)})")
    if not pieces:
        return '""'
    return pieces[0] if len(pieces) == 1 else "(" + " + ".join(pieces) + ")"


def _translate(body: str, offset: int) -> str:
    if "${" in body or "#{" in body:
        raise JuelError("nested JUEL expressions are not supported", offset)
    parser = _Parser(_tokenize(body, offset))
    result = parser.expression(0)
    if parser.peek().kind != "end":
        tok = parser.peek()
        raise JuelError(f"unexpected '{tok.text}'", tok.column)
    return result


def _tokenize(body: str, offset: int) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(body):
        if body[pos:].strip() == "":
            break
        match = _TOKEN.match(body, pos)
        if match is None or match.end() == pos:
            col = offset + len(body[pos:]) - len(body[pos:].lstrip()) + pos
            raise JuelError(f"unexpected character '{body[pos:].lstrip()[:1]}'", col)
        kind = match.lastgroup or "op"
        value = match.group(kind)
        column = offset + match.start(kind)
        if kind == "name" and value in _WORD_OPS:
            kind, value = "op", _WORD_OPS[value]
        tokens.append(_Tok(kind, value, column))
        pos = match.end()
    tokens.append(_Tok("end", "", offset + len(body)))
    return tokens


class _Parser:
    def __init__(self, tokens: list[_Tok]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> _Tok:
        return self.tokens[self.pos]

    def take(self) -> _Tok:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok.text != text or tok.kind != "op":
            raise JuelError(f"expected '{text}' but found '{tok.text or 'end'}'", tok.column)

    def expression(self, min_prec: int) -> str:
        left = self.unary()
        while True:
            tok = self.peek()
            if tok.kind != "op" or tok.text not in _BINARY:
                if tok.kind == "op" and tok.text in ("%", "?", ":"):
                    raise JuelError(f"operator '{tok.text}' is not supported", tok.column)
                return left
            prec, feel_op = _BINARY[tok.text]
            if prec <= min_prec:
                return left
            self.take()
            right = self.expression(prec)
            left = f"({left} {feel_op} {right})"

    def unary(self) -> str:
        tok = self.peek()
        if tok.kind == "op" and tok.text == "!":
            self.take()
            return f"not({self.unary()})"
        if tok.kind == "op" and tok.text == "-":
            self.take()
            return f"(-{self.unary()})"
        if tok.kind == "name" and tok.text == "empty":
            self.take()
            operand = self.unary()
            return (
                f"(if {operand} = null then true "
                f"else if {operand} instance of string then string length({operand}) = 0 "
                f"else if {operand} instance of list then count({operand}) = 0 "
                f"else if {operand} instance of context then count(get entries({operand})) = 0 "
                "else false)"
            )
        return self.postfix()

    def postfix(self) -> str:
        tok = self.take()
        if tok.kind == "num":
            result = tok.text
        elif tok.kind == "str":
            inner = tok.text[1:-1].replace("\\'", "'").replace('\\"', '"')
            result = '"' + inner.replace("\\", "\\\\").replace('"', '\\"') + '"'
        elif tok.kind == "name":
            if tok.text in ("true", "false", "null"):
                return tok.text
            if tok.text == "instanceof":
                raise JuelError("'instanceof' is not supported", tok.column)
            result = tok.text
        elif tok.kind == "op" and tok.text == "(":
            result = self.expression(0)
            self.expect(")")
            return f"({result})"
        else:
            raise JuelError(f"unexpected '{tok.text or 'end of expression'}'", tok.column)
        while self.peek().kind == "op" and self.peek().text in (".", "[", "("):
            nxt = self.take()
            if nxt.text == "(":
                raise JuelError(
                    "method calls are not supported in Flowdesk (FEEL only)", nxt.column
                )
            if nxt.text == ".":
                name = self.take()
                if name.kind != "name":
                    raise JuelError("expected a property name after '.'", name.column)
                if self.peek().text == "(":
                    raise JuelError(
                        f"method call '{name.text}(...)' is not supported (FEEL only)",
                        name.column,
                    )
                result = f"{result}.{name.text}"
            else:
                index = self.take()
                if index.kind == "str":
                    self.expect("]")
                    result = f"{result}.{index.text[1:-1]}"
                elif index.kind == "num" and "." not in index.text:
                    self.expect("]")
                    result = f"{result}[{int(index.text) + 1}]"
                else:
                    raise JuelError("only literal indexes are supported", index.column)
        return result
