"""XPath (XML Schema) regular expressions, as FEEL's matches/replace/split use them, translated
to Python `re`. Only the constructs with the same meaning are passed on; XPath-only syntax
(`\\p{..}`, class subtraction) and Python-only syntax (`(?P<..>)`, lookarounds, inline flags)
are rejected, so a pattern never means something different from what the spec says."""

from __future__ import annotations

import re
from collections.abc import Callable

from flowdesk.feel.errors import FeelRuntimeError

MAX_PATTERN = 10_000
_FLAG_BITS = {"s": re.DOTALL, "m": re.MULTILINE, "i": re.IGNORECASE}


def compile_xpath(fname: str, pattern: str, flags: str | None) -> re.Pattern[str]:
    """Compile an XPath regex with XPath flags (`s`, `m`, `i`, `x`, `q`)."""
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
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise FeelRuntimeError(f"{fname}: pattern ends with a lone backslash")
            e = pattern[i + 1]
            if e in "pPicIC":
                raise FeelRuntimeError(f"{fname}: the regex escape \\{e} is not supported")
            out.append("\\" + e)
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
                out.append(c)
            elif c == "[":
                if out and out[-1] == "-":
                    raise FeelRuntimeError(f"{fname}: character class subtraction is not supported")
                out.append("\\[")
            else:
                out.append(c)
            i += 1
            continue
        if strip_ws and c in " \t\n\r":
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            if pattern.startswith("^", i + 1):
                out.append("^")
                i += 1
            if pattern.startswith("]", i + 1):
                out.append("\\]")
                i += 1
        elif c == "(" and pattern.startswith("?", i + 1):
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
    if in_class:
        raise FeelRuntimeError(f"{fname}: unterminated character class in pattern")
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
