"""String functions (DMN 1.5 table 72). Positions count Unicode code points (Python str
indices), not UTF-16 units, and are 1-based; a negative start counts from the end."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

from flowdesk.feel.builtins.base import a_list, builtin, num, text
from flowdesk.feel.builtins.regex import compile_xpath, replacement
from flowdesk.feel.errors import FeelRuntimeError
from flowdesk.feel.runtime import Env
from flowdesk.feel.values import type_name


def _limit(env: Env, fname: str, value: str) -> str:
    limit = env.limits.max_string
    if len(value) > limit:
        raise FeelRuntimeError(f"{fname}: input of {len(value)} characters exceeds {limit}")
    return value


def _whole(value: Decimal) -> int:
    """The integer part: Table 67 positions and lengths are integers, and the TCK (1103:
    `substring("foobar", 3, 3.8)` is "oba") and the engines that pass it truncate others."""
    return int(value.to_integral_value(rounding=ROUND_DOWN))


@builtin("substring", "string", "start position", "length", required=2)
def substring(env: Env, string: Any, start: Any, length: Any) -> str:
    """fn:substring on code points, plus negative starts counted from the end: characters at
    positions p with start <= p < start + length are kept (non-integers truncated)."""
    s = text("substring", "string", string)
    first = _whole(num("substring", "start position", start))
    if first < 0:
        first = len(s) + first + 1
    begin = max(first, 1) - 1
    if length is None:
        return s[begin:]
    count = _whole(num("substring", "length", length))
    end = first - 1 + count
    if end <= begin:
        return ""
    return s[begin:end]


@builtin("string length", "string")
def string_length(env: Env, string: Any) -> Decimal:
    return Decimal(len(text("string length", "string", string)))


@builtin("upper case", "string")
def upper_case(env: Env, string: Any) -> str:
    return text("upper case", "string", string).upper()


@builtin("lower case", "string")
def lower_case(env: Env, string: Any) -> str:
    return text("lower case", "string", string).lower()


@builtin("substring before", "string", "match")
def substring_before(env: Env, string: Any, match: Any) -> str:
    s = text("substring before", "string", string)
    m = text("substring before", "match", match)
    index = s.find(m)
    return s[:index] if index >= 0 and m else ""


@builtin("substring after", "string", "match")
def substring_after(env: Env, string: Any, match: Any) -> str:
    s = text("substring after", "string", string)
    m = text("substring after", "match", match)
    if not m:
        return s
    index = s.find(m)
    return s[index + len(m) :] if index >= 0 else ""


@builtin("replace", "input", "pattern", "replacement", "flags", required=3)
def replace(env: Env, input: Any, pattern: Any, repl: Any, flags: Any) -> str:
    """XPath fn:replace. A pattern matching the empty string is allowed (as in XPath 4.0):
    `replace("abc", "x*", "-")` is "-a-b-c-"."""
    s = _limit(env, "replace", text("replace", "input", input))
    flag_text = None if flags is None else text("replace", "flags", flags)
    rx = compile_xpath("replace", text("replace", "pattern", pattern), flag_text)
    template = text("replace", "replacement", repl)
    if flag_text and "q" in flag_text:
        return rx.sub(lambda _m: template, s)
    return rx.sub(replacement("replace", template, rx.groups), s)


@builtin("contains", "string", "match")
def contains(env: Env, string: Any, match: Any) -> bool:
    return text("contains", "match", match) in text("contains", "string", string)


@builtin("starts with", "string", "match")
def starts_with(env: Env, string: Any, match: Any) -> bool:
    return text("starts with", "string", string).startswith(text("starts with", "match", match))


@builtin("ends with", "string", "match")
def ends_with(env: Env, string: Any, match: Any) -> bool:
    return text("ends with", "string", string).endswith(text("ends with", "match", match))


@builtin("matches", "input", "pattern", "flags", required=2)
def matches(env: Env, input: Any, pattern: Any, flags: Any) -> bool:
    s = _limit(env, "matches", text("matches", "input", input))
    flag_text = None if flags is None else text("matches", "flags", flags)
    rx = compile_xpath("matches", text("matches", "pattern", pattern), flag_text)
    return rx.search(s) is not None


@builtin("split", "string", "delimiter")
def split(env: Env, string: Any, delimiter: Any) -> list[Any]:
    """XPath fn:tokenize: the delimiter is a pattern; groups in it are not returned; an empty
    string gives an empty list."""
    s = _limit(env, "split", text("split", "string", string))
    rx = compile_xpath("split", text("split", "delimiter", delimiter), None)
    if rx.fullmatch(""):
        raise FeelRuntimeError("split: the delimiter pattern matches the empty string")
    if not s:
        return []
    parts: list[Any] = []
    last = 0
    for m in rx.finditer(s):
        parts.append(s[last : m.start()])
        last = m.end()
    parts.append(s[last:])
    return parts


@builtin("string join", "list", "delimiter", required=1)
def string_join(env: Env, items: Any, delimiter: Any) -> str:
    values = a_list("string join", "list", items)
    sep = "" if delimiter is None else text("string join", "delimiter", delimiter)
    out: list[str] = []
    for item in values:
        if item is None:
            continue
        if not isinstance(item, str):
            raise FeelRuntimeError(
                f"string join: list items must be strings, got {type_name(item)}"
            )
        out.append(item)
    return _limit(env, "string join", sep.join(out))


@builtin("extract", "string", "pattern")
def extract(env: Env, string: Any, pattern: Any) -> list[Any]:
    """All substrings matching the pattern, left to right (not in DMN 1.5; as in Camunda)."""
    s = _limit(env, "extract", text("extract", "string", string))
    rx = compile_xpath("extract", text("extract", "pattern", pattern), None)
    return [m.group(0) for m in rx.finditer(s)]
