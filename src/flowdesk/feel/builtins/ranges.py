"""Range functions (DMN 1.5 table 81): the Allen interval relations on points and ranges, and
`range(from)`, which reads a range literal such as `"[1..10)"` or `">= @\\"2024-01-01\\""`.

An unbounded endpoint (None, from unary tests like `< 10`) acts as minus or plus infinity.
Positional calls choose the point/range form from the argument types; named calls choose it
from the parameter names (`before(point: 1, range: [2..3])`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flowdesk.feel.builtins.base import REGISTRY, Builtin, Signature, builtin, text
from flowdesk.feel.equality import compare
from flowdesk.feel.errors import FeelRuntimeError
from flowdesk.feel.lexer import number_literal
from flowdesk.feel.runtime import Env
from flowdesk.feel.values import (
    Range,
    parse_date,
    parse_date_time,
    parse_duration,
    parse_temporal,
    parse_time,
    type_name,
)


class _Infinity:
    def __init__(self, sign: int) -> None:
        self.sign = sign


_NEG, _POS = _Infinity(-1), _Infinity(1)


def _cmp(a: Any, b: Any) -> int:
    if isinstance(a, _Infinity) or isinstance(b, _Infinity):
        x = a.sign if isinstance(a, _Infinity) else 0
        y = b.sign if isinstance(b, _Infinity) else 0
        return (x > y) - (x < y)
    c = compare(a, b)
    if c is None:  # pragma: no cover - nulls are filtered before
        raise FeelRuntimeError("range function: cannot compare with null")
    return c


def _lt(a: Any, b: Any) -> bool:
    return _cmp(a, b) < 0


def _gt(a: Any, b: Any) -> bool:
    return _cmp(a, b) > 0


def _eq(a: Any, b: Any) -> bool:
    return _cmp(a, b) == 0


class _R:
    """A range with infinite endpoints made explicit."""

    def __init__(self, r: Range) -> None:
        self.s: Any = _NEG if r.start is None else r.start
        self.e: Any = _POS if r.end is None else r.end
        self.si = r.start_included
        self.ei = r.end_included


Rel = Callable[[Any, Any], bool]


def _before_pr(p: Any, r: _R) -> bool:
    return _lt(p, r.s) or (_eq(p, r.s) and not r.si)


def _before_rp(r: _R, p: Any) -> bool:
    return _lt(r.e, p) or (_eq(r.e, p) and not r.ei)


def _before_rr(a: _R, b: _R) -> bool:
    return _lt(a.e, b.s) or ((not a.ei or not b.si) and _eq(a.e, b.s))


def _after_pr(p: Any, r: _R) -> bool:
    return _gt(p, r.e) or (_eq(p, r.e) and not r.ei)


def _after_rp(r: _R, p: Any) -> bool:
    return _gt(r.s, p) or (_eq(r.s, p) and not r.si)


def _after_rr(a: _R, b: _R) -> bool:
    return _gt(a.s, b.e) or ((not a.si or not b.ei) and _eq(a.s, b.e))


def _meets(a: _R, b: _R) -> bool:
    return a.ei and b.si and _eq(a.e, b.s)


def _met_by(a: _R, b: _R) -> bool:
    return a.si and b.ei and _eq(a.s, b.e)


def _overlaps(a: _R, b: _R) -> bool:
    return (_gt(a.e, b.s) or (_eq(a.e, b.s) and a.ei and b.si)) and (
        _lt(a.s, b.e) or (_eq(a.s, b.e) and a.si and b.ei)
    )


def _overlaps_before(a: _R, b: _R) -> bool:
    return (
        (_lt(a.s, b.s) or (_eq(a.s, b.s) and a.si and not b.si))
        and (_gt(a.e, b.s) or (_eq(a.e, b.s) and a.ei and b.si))
        and (_lt(a.e, b.e) or (_eq(a.e, b.e) and (not a.ei or b.ei)))
    )


def _overlaps_after(a: _R, b: _R) -> bool:
    return _overlaps_before(b, a)


def _point_inside(p: Any, r: _R) -> bool:
    return (_lt(r.s, p) and _gt(r.e, p)) or (_eq(r.s, p) and r.si) or (_eq(r.e, p) and r.ei)


def _finishes_pr(p: Any, r: _R) -> bool:
    return r.ei and _eq(r.e, p)


def _finishes_rr(a: _R, b: _R) -> bool:
    return (
        a.ei == b.ei and _eq(a.e, b.e) and (_gt(a.s, b.s) or (_eq(a.s, b.s) and (not a.si or b.si)))
    )


def _includes_rr(a: _R, b: _R) -> bool:
    return (_lt(a.s, b.s) or (_eq(a.s, b.s) and (a.si or not b.si))) and (
        _gt(a.e, b.e) or (_eq(a.e, b.e) and (a.ei or not b.ei))
    )


def _starts_pr(p: Any, r: _R) -> bool:
    return _eq(r.s, p) and r.si


def _starts_rr(a: _R, b: _R) -> bool:
    return (
        _eq(a.s, b.s) and a.si == b.si and (_lt(a.e, b.e) or (_eq(a.e, b.e) and (not a.ei or b.ei)))
    )


def _coincides_rr(a: _R, b: _R) -> bool:
    return _eq(a.s, b.s) and a.si == b.si and _eq(a.e, b.e) and a.ei == b.ei


def _swap(rel: Rel) -> Rel:
    return lambda x, y: rel(y, x)


_PARAMS = {
    "pp": ("point1", "point2"),
    "pr": ("point", "range"),
    "rp": ("range", "point"),
    "rr": ("range1", "range2"),
}


class AllenFunction(Builtin):
    """A range relation with overloads for points and ranges."""

    def __init__(self, name: str, forms: dict[str, Rel]) -> None:
        super().__init__(name)
        self.forms = forms
        for kind in forms:
            self.add(Signature(_PARAMS[kind], self._unused, 2))

    @staticmethod
    def _unused(env: Env, *args: Any) -> Any:  # pragma: no cover - invoke is overridden
        raise NotImplementedError

    def invoke(self, env: Env, positional: list[Any] | None, named: dict[str, Any] | None) -> Any:
        if named is not None:
            kind = next(
                (k for k in self.forms if set(named) == set(_PARAMS[k])),
                None,
            )
            if kind is None:
                raise FeelRuntimeError(
                    f"{self.name}: no form takes the parameters ({', '.join(named)}); expected "
                    + " or ".join(self._describe(s) for s in self.signatures)
                )
            a, b = (named[p] for p in _PARAMS[kind])
        else:
            args = list(positional or [])
            if len(args) != 2:
                raise FeelRuntimeError(f"{self.name}: expected 2 arguments, got {len(args)}")
            a, b = args
            kind = ("r" if isinstance(a, Range) else "p") + ("r" if isinstance(b, Range) else "p")
        if a is None or b is None:
            return None
        actual = ("r" if isinstance(a, Range) else "p") + ("r" if isinstance(b, Range) else "p")
        if kind not in self.forms or actual != kind:
            raise FeelRuntimeError(
                f"{self.name}: no form for ({type_name(a)}, {type_name(b)}); expected "
                + " or ".join(self._describe(s) for s in self.signatures)
            )
        x = _R(a) if isinstance(a, Range) else a
        y = _R(b) if isinstance(b, Range) else b
        return self.forms[kind](x, y)


def _register(name: str, **forms: Rel) -> None:
    REGISTRY[name] = AllenFunction(name, forms)


_register("before", pp=_lt, pr=_before_pr, rp=_before_rp, rr=_before_rr)
_register("after", pp=_gt, pr=_after_pr, rp=_after_rp, rr=_after_rr)
_register("meets", rr=_meets)
_register("met by", rr=_met_by)
_register("overlaps", rr=_overlaps)
_register("overlaps before", rr=_overlaps_before)
_register("overlaps after", rr=_overlaps_after)
_register("finishes", pr=_finishes_pr, rr=_finishes_rr)
_register("finished by", rp=_swap(_finishes_pr), rr=_swap(_finishes_rr))
_register("includes", rp=_swap(_point_inside), rr=_includes_rr)
_register("during", pr=_point_inside, rr=_swap(_includes_rr))
_register("starts", pr=_starts_pr, rr=_starts_rr)
_register("started by", rp=_swap(_starts_pr), rr=_swap(_starts_rr))
_register("coincides", pp=_eq, rr=_coincides_rr)


# --- range(from) ------------------------------------------------------------------------------

_NUMBER = re.compile(r"-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_CALL = re.compile(r'(date and time|date|time|duration)\s*\(\s*"([^"\\]*)"\s*\)')
_PARSERS: dict[str, Callable[[str], Any]] = {
    "date and time": parse_date_time,
    "date": parse_date,
    "time": parse_time,
    "duration": parse_duration,
}


def _literal(source: str, pos: int) -> tuple[Any, int]:
    """Read one endpoint literal at `pos`; returns (value, end) with None for an empty one."""
    while pos < len(source) and source[pos] == " ":
        pos += 1
    if source.startswith("@", pos):
        m = _STRING.match(source, pos + 1)
        if m is None:
            raise FeelRuntimeError(f"range: expected a string after '@' in '{source[:60]}'")
        return parse_temporal(_unescape(m.group(1))), m.end()
    m = _STRING.match(source, pos)
    if m is not None:
        return _unescape(m.group(1)), m.end()
    m = _CALL.match(source, pos)
    if m is not None:
        return _PARSERS[m.group(1)](m.group(2)), m.end()
    m = _NUMBER.match(source, pos)
    if m is not None:
        return number_literal(m.group(0)), m.end()
    return None, pos


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m[1], m[1]), body)


@builtin("range", "from")
def range_(env: Env, value: Any) -> Range:
    """Parse `[a..b]`, `(a..b)`, `]a..b[` and mixed brackets (rule 66; rule 66 b/c: a missing
    endpoint takes an open bracket, `[2..)`, `(..2]`); endpoints are number, string, temporal
    (`@"..."`, `date("...")`) literals. A unary test such as `>= 10` is not a range literal:
    Table 71 makes any string outside rule 66 null."""
    source = text("range", "from", value).strip()
    if len(source) > 1000:
        raise FeelRuntimeError("range: text is too long")
    if re.match(r"(<=|>=|<|>|=|!=)", source) is not None:
        raise FeelRuntimeError(
            f"range: '{source[:60]}' is a unary test, not a range literal (rule 66); "
            "write it with brackets, e.g. [10..) for >= 10"
        )
    if not source or source[0] not in "[(]":
        raise FeelRuntimeError(f"range: '{source[:60]}' is not a range literal such as [1..10)")
    start_included = source[0] == "["
    start, pos = _literal(source, 1)
    while pos < len(source) and source[pos] == " ":
        pos += 1
    if not source.startswith("..", pos):
        raise FeelRuntimeError(f"range: expected '..' in '{source[:60]}'")
    end, pos = _literal(source, pos + 2)
    rest = source[pos:].strip()
    if rest not in ("]", ")", "["):
        raise FeelRuntimeError(f"range: expected ']', ')' or '[' at the end of '{source[:60]}'")
    if start is None and end is None:
        raise FeelRuntimeError("range: at least one endpoint is needed")
    # Rule 66 b and c: a missing endpoint takes an open bracket ("(..2)", "[2..)").
    if start is None and start_included:
        raise FeelRuntimeError(f"range: '{source[:60]}' has no start, so it must open with '('")
    if end is None and rest == "]":
        raise FeelRuntimeError(f"range: '{source[:60]}' has no end, so it must close with ')'")
    if start is not None and end is not None and (compare(start, end) or 0) > 0:
        # compare() also raises when the endpoints are of different types
        raise FeelRuntimeError(f"range: the start of '{source[:60]}' is after its end")
    return Range(start, end, start_included and start is not None, rest == "]" and end is not None)
