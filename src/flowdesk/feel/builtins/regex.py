"""XPath (XML Schema) regular expressions, as FEEL's matches/replace/split use them, translated
to Python `re`. Only the constructs with the same meaning are passed on; XPath-only syntax
(`\\p{..}`) and Python-only syntax (`(?P<..>)`, lookarounds, inline flags) are rejected, so a
pattern never means something different from what the spec says; class subtraction is rewritten
with a lookahead."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from flowdesk.feel.errors import FeelRuntimeError

MAX_PATTERN = 10_000
_FLAG_BITS = {"s": re.DOTALL, "m": re.MULTILINE, "i": re.IGNORECASE}


@lru_cache(maxsize=512)
def compile_xpath(fname: str, pattern: str, flags: str | None) -> re.Pattern[str]:
    """Compile an XPath regex with XPath flags (`s`, `m`, `i`, `x`, `q`); cached, since a
    decision evaluates the same pattern on every call and the translation is not free."""
    if len(pattern) > MAX_PATTERN:
        raise FeelRuntimeError(f"{fname}: pattern is longer than {MAX_PATTERN} characters")
    flags = flags or ""
    bits = 0
    for flag in flags:
        if flag in _FLAG_BITS:
            bits |= _FLAG_BITS[flag]
        elif flag not in "xq":
            raise FeelRuntimeError(f"{fname}: unknown regex flag '{flag}' (allowed: s, m, i, x, q)")
    if "q" in flags:
        source = re.escape(pattern)
    else:
        source = _translate(
            fname, pattern, dotall="s" in flags, multiline="m" in flags, strip_ws="x" in flags
        )
    try:
        return re.compile(source, bits)
    except re.error as exc:
        raise FeelRuntimeError(f"{fname}: invalid pattern '{pattern[:60]}': {exc}") from None


def _translate(fname: str, pattern: str, *, dotall: bool, multiline: bool, strip_ws: bool) -> str:
    if strip_ws:
        pattern = _strip_whitespace(pattern)
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            out.append(_escape(fname, pattern, i, in_class=False))
            i += 2
            continue
        if c == "[":
            translated, i = _class(fname, pattern, i)
            out.append(translated)
            continue
        if c == "(" and pattern.startswith("?", i + 1):
            if not pattern.startswith(":", i + 2):
                raise FeelRuntimeError(f"{fname}: '(?' is only allowed as '(?:' in a pattern")
            out.append("(?:")
            i += 2
        elif c == "$":
            out.append("$" if multiline else r"\Z")
        elif c == "." and not dotall:
            out.append(r"[^\n\r]")
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _escape(fname: str, pattern: str, i: int, *, in_class: bool) -> str:
    if i + 1 >= len(pattern):
        raise FeelRuntimeError(f"{fname}: pattern ends with a lone backslash")
    e = pattern[i + 1]
    if e in "pPicIC":
        raise FeelRuntimeError(f"{fname}: the regex escape \\{e} is not supported")
    if e.isdigit() and (in_class or e == "0"):
        # XML Schema regexes have back-references (\\1..\\9) only outside a class, no \\0
        raise FeelRuntimeError(f"{fname}: '\\{e}' is not allowed here in a pattern")
    return "\\" + e


def _class(fname: str, pattern: str, i: int) -> tuple[str, int]:
    """The character class starting at `pattern[i]` ("[") as Python syntax, and the index after
    it. XML Schema class subtraction `[A-Z-[OI]]` becomes `(?:(?![OI])[A-Z])`."""
    n = len(pattern)
    j = i + 1
    negated = pattern.startswith("^", j)
    if negated:
        j += 1
    items: list[str] = []
    first = True
    while j < n:
        c = pattern[j]
        if c == "]" and not first:
            return "[" + ("^" if negated else "") + "".join(items) + "]", j + 1
        if c == "\\":
            items.append(_escape(fname, pattern, j, in_class=True))
            j += 2
        elif c == "-" and pattern.startswith("[", j + 1) and not first:
            subtracted, j = _class(fname, pattern, j + 1)
            if j >= n or pattern[j] != "]":
                raise FeelRuntimeError(f"{fname}: a subtracted class must end its class")
            base = "[" + ("^" if negated else "") + "".join(items) + "]"
            return f"(?:(?!{subtracted}){base})", j + 1
        else:
            items.append("\\[" if c == "[" else "\\]" if c == "]" else c)
            j += 1
        first = False
    raise FeelRuntimeError(f"{fname}: unterminated character class in pattern")


def _strip_whitespace(pattern: str) -> str:
    """Flag `x` (XPath 3.1, 5.6.1): whitespace is removed before the pattern is read, except
    inside a character class; so `hello\\ sworld` means `hello\\sworld`."""
    out: list[str] = []
    depth = 0
    escaped = False
    for c in pattern:
        if depth == 0 and c in " \t\n\r":
            continue
        out.append(c)
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == "[":
            depth += 1
        elif c == "]" and depth:
            depth -= 1
    return "".join(out)


def replacement(fname: str, template: str, groups: int) -> Callable[[re.Match[str]], str]:
    """XPath replacement string: `$N` inserts group N (as many digits as name an existing
    group), `\\$` and `\\\\` are literal; anything else after `\\` or a lone `$` is an error."""
    parts: list[str | int] = []
    i, n = 0, len(template)
    literal: list[str] = []
    while i < n:
        c = template[i]
        if c == "\\":
            if i + 1 < n and template[i + 1] in "\\$":
                literal.append(template[i + 1])
                i += 2
                continue
            raise FeelRuntimeError(f"{fname}: '\\' in a replacement must be followed by \\ or $")
        if c == "$":
            j = i + 1
            if j >= n or not template[j].isdigit():
                raise FeelRuntimeError(f"{fname}: '$' in a replacement must be followed by a digit")
            number = int(template[j])
            j += 1
            while j < n and template[j].isdigit() and int(template[i + 1 : j + 1]) <= groups:
                number = int(template[i + 1 : j + 1])
                j += 1
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(number)
            i = j
            continue
        literal.append(c)
        i += 1
    if literal:
        parts.append("".join(literal))

    def expand(m: re.Match[str]) -> str:
        out: list[str] = []
        for p in parts:
            if isinstance(p, str):
                out.append(p)
            elif p <= groups:
                out.append(m.group(p) or "")
        return "".join(out)

    return expand
