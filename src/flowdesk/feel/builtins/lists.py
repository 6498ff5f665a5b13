"""List functions (DMN 1.5 table 73), including `all`/`any` and the statistics functions.
Positions are 1-based; negative positions count from the end (-1 is the last item)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cmp_to_key
from typing import Any

from flowdesk.feel.builtins.base import Builtin, a_list, builtin, integer, num
from flowdesk.feel.durations import YearsMonthsDuration
from flowdesk.feel.equality import compare, equals
from flowdesk.feel.errors import FeelRuntimeError
from flowdesk.feel.numbers import FEEL_CONTEXT, normalize
from flowdesk.feel.runtime import Env, FeelFunction
from flowdesk.feel.values import type_name


def _index(fname: str, position: Any, length: int) -> int:
    """0-based index for a 1-based (or negative, from the end) position inside the list."""
    p = integer(fname, "position", position)
    if 0 < p <= length:
        return p - 1
    if p < 0 and -p <= length:
        return length + p
    raise FeelRuntimeError(f"{fname}: position {p} is outside a list of {length} items")


def _contains(items: list[Any], value: Any) -> bool:
    return any(equals(item, value) is True for item in items)


# Types whose Python equality and hash agree with FEEL equality, so sets can deduplicate them
# (Decimal('1') and Decimal('1.0') hash alike; bool is kept apart from numbers by the type name).
_HASHABLE = (str, bool, Decimal, date, timedelta, YearsMonthsDuration)


def _distinct(values: list[Any]) -> list[Any]:
    """Items in first-seen order without FEEL-equal repeats; linear for scalar items."""
    out: list[Any] = []
    seen: set[tuple[str, Any]] = set()
    for v in values:
        if isinstance(v, _HASHABLE) and not (isinstance(v, datetime) and v.tzinfo is not None):
            key = (type_name(v), v)
            if key in seen:
                continue
            seen.add(key)
            out.append(v)
        elif v is None:
            if ("Null", None) not in seen:
                seen.add(("Null", None))
                out.append(v)
        elif not _contains(out, v):
            out.append(v)
    return out


def _numbers(fname: str, items: list[Any]) -> list[Decimal] | None:
    if any(item is None for item in items):
        return None
    return [num(fname, "list item", item) for item in items]


@builtin("list contains", "list", "element", nullable=("element",))
def list_contains(env: Env, items: Any, element: Any) -> bool:
    return _contains(a_list("list contains", "list", items), element)


@builtin("count", "list")
def count(env: Env, items: Any) -> Decimal:
    return Decimal(len(a_list("count", "list", items)))


def _extreme(fname: str, items: list[Any], sign: int) -> Any:
    if not items or any(item is None for item in items):
        return None
    best = items[0]
    for item in items[1:]:
        c = compare(item, best)
        if c is not None and c * sign > 0:
            best = item
    return best


@builtin("min", "list", list_or_varargs=True)
def min_(env: Env, items: list[Any]) -> Any:
    return _extreme("min", items, -1)


@builtin("max", "list", list_or_varargs=True)
def max_(env: Env, items: list[Any]) -> Any:
    return _extreme("max", items, 1)


def _sum(values: list[Decimal]) -> Decimal:
    total = Decimal(0)
    for v in values:
        total = FEEL_CONTEXT.add(total, v)
    return total


@builtin("sum", "list", list_or_varargs=True)
def sum_(env: Env, items: list[Any]) -> Decimal | None:
    values = _numbers("sum", items)
    if not values:
        return None
    return normalize(_sum(values))


@builtin("mean", "list", list_or_varargs=True)
def mean(env: Env, items: list[Any]) -> Decimal | None:
    values = _numbers("mean", items)
    if not values:
        return None
    return normalize(FEEL_CONTEXT.divide(_sum(values), Decimal(len(values))))


@builtin("product", "list", list_or_varargs=True)
def product(env: Env, items: list[Any]) -> Decimal | None:
    values = _numbers("product", items)
    if not values:
        return None
    total = Decimal(1)
    for v in values:
        total = FEEL_CONTEXT.multiply(total, v)
    return normalize(total)


@builtin("median", "list", list_or_varargs=True)
def median(env: Env, items: list[Any]) -> Decimal | None:
    values = _numbers("median", items)
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return normalize(ordered[mid])
    return normalize(FEEL_CONTEXT.divide(FEEL_CONTEXT.add(ordered[mid - 1], ordered[mid]), 2))


@builtin("stddev", "list", list_or_varargs=True)
def stddev(env: Env, items: list[Any]) -> Decimal | None:
    """Sample standard deviation (n - 1 in the denominator); null for fewer than two items."""
    values = _numbers("stddev", items)
    if not values or len(values) < 2:
        return None
    avg = FEEL_CONTEXT.divide(_sum(values), Decimal(len(values)))
    squares = _sum([FEEL_CONTEXT.power(FEEL_CONTEXT.subtract(v, avg), 2) for v in values])
    variance = FEEL_CONTEXT.divide(squares, Decimal(len(values) - 1))
    return normalize(FEEL_CONTEXT.sqrt(variance))


@builtin("mode", "list", list_or_varargs=True)
def mode(env: Env, items: list[Any]) -> list[Any] | None:
    """The most frequent values, in ascending order (`mode([])` is `[]`)."""
    if any(item is None for item in items):
        return None
    groups: list[list[Any]] = []
    for item in items:
        for group in groups:
            if equals(group[0], item) is True:
                group.append(item)
                break
        else:
            groups.append([item])
    if not groups:
        return []
    top = max(len(g) for g in groups)
    winners = [g[0] for g in groups if len(g) == top]
    return _sorted(winners)


def _sorted(values: list[Any]) -> list[Any]:
    return sorted(values, key=cmp_to_key(lambda a, b: compare(a, b) or 0))


def _truth(fname: str, items: list[Any], stop: bool) -> bool | None:
    unknown = False
    for item in items:
        if isinstance(item, bool) and item == stop:
            return stop
        if not isinstance(item, bool):
            if item is not None:
                raise FeelRuntimeError(
                    f"{fname}: list items must be booleans, got {type_name(item)}"
                )
            unknown = True
    return None if unknown else not stop


@builtin("all", "list", list_or_varargs=True)
def all_(env: Env, items: list[Any]) -> bool | None:
    """True if every item is true; false if any is false; otherwise null. `all([])` is true."""
    return _truth("all", items, False)


@builtin("any", "list", list_or_varargs=True)
def any_(env: Env, items: list[Any]) -> bool | None:
    """True if any item is true; false if all are false; otherwise null. `any([])` is false."""
    return _truth("any", items, True)


@builtin("sublist", "list", "start position", "length", required=2)
def sublist(env: Env, items: Any, start: Any, length: Any) -> list[Any]:
    values = a_list("sublist", "list", items)
    begin = _index("sublist", start, len(values))
    if length is None:
        return values[begin:]
    n = integer("sublist", "length", length)
    if n < 0 or begin + n > len(values):
        raise FeelRuntimeError(f"sublist: length {n} goes past the end of the list")
    return values[begin : begin + n]


@builtin("append", "list", "item", required=1, variadic=True)
def append(env: Env, items: Any, new: list[Any]) -> list[Any]:
    return [*a_list("append", "list", items), *new]


@builtin("concatenate", "list", required=0, variadic=True)
def concatenate(env: Env, lists: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in lists:
        out.extend(a_list("concatenate", "list", item))
    return out


@builtin("insert before", "list", "position", "newItem", nullable=("newItem",))
def insert_before(env: Env, items: Any, position: Any, new: Any) -> list[Any]:
    values = list(a_list("insert before", "list", items))
    values.insert(_index("insert before", position, len(values)), new)
    return values


@builtin("remove", "list", "position")
def remove(env: Env, items: Any, position: Any) -> list[Any]:
    values = list(a_list("remove", "list", items))
    del values[_index("remove", position, len(values))]
    return values


@builtin("reverse", "list")
def reverse(env: Env, items: Any) -> list[Any]:
    return list(reversed(a_list("reverse", "list", items)))


@builtin("index of", "list", "match", nullable=("match",))
def index_of(env: Env, items: Any, match: Any) -> list[Any]:
    values = a_list("index of", "list", items)
    return [Decimal(i + 1) for i, v in enumerate(values) if equals(v, match) is True]


@builtin("union", "list", required=0, variadic=True)
def union(env: Env, lists: list[Any]) -> list[Any]:
    return _distinct([v for item in lists for v in a_list("union", "list", item)])


@builtin("distinct values", "list")
def distinct_values(env: Env, items: Any) -> list[Any]:
    return _distinct(a_list("distinct values", "list", items))


@builtin("flatten", "list")
def flatten(env: Env, items: Any) -> list[Any]:
    out: list[Any] = []
    _flatten(a_list("flatten", "list", items), out, 0)
    return out


def _flatten(items: list[Any], out: list[Any], depth: int) -> None:
    if depth > 200:
        raise FeelRuntimeError("flatten: lists are nested too deeply")
    for v in items:
        if isinstance(v, list):
            _flatten(v, out, depth + 1)
        else:
            out.append(v)


@builtin("list replace", "list", "position", "newItem", nullable=("newItem",))
def list_replace(env: Env, items: Any, position: Any, new: Any) -> list[Any]:
    """Replace the item at a position, or every item for which `match(item, newItem)` is true.
    A single item where the list is expected is a singleton list (10.3.2.9.4)."""
    values = list(a_list("list replace", "list", _singleton(items)))
    if isinstance(position, FeelFunction):
        return _replace_matching(env, values, position, new)
    values[_index("list replace", position, len(values))] = new
    return values


@builtin("list replace", "list", "match", "newItem", nullable=("newItem",))
def list_replace_matching(env: Env, items: Any, match: Any, new: Any) -> list[Any]:
    values = list(a_list("list replace", "list", _singleton(items)))
    if not isinstance(match, FeelFunction):
        raise FeelRuntimeError(f"list replace: match must be a function, got {type_name(match)}")
    return _replace_matching(env, values, match, new)


def _singleton(items: Any) -> Any:
    return items if items is None or isinstance(items, list) else [items]


def _replace_matching(env: Env, values: list[Any], match: FeelFunction, new: Any) -> list[Any]:
    if not isinstance(match, Builtin) and len(match.params) != 2:
        # Table 75: match is a function(item, newItem) -> boolean; a function of another
        # arity does not conform to that type (10.3.2.9.2), so the result is null
        raise FeelRuntimeError(
            f"list replace: match must take 2 parameters (item, newItem), not {len(match.params)}"
        )
    out: list[Any] = []
    for v in values:
        verdict = match.invoke(env, [v, new], None)
        if verdict is not None and not isinstance(verdict, bool):
            raise FeelRuntimeError(
                f"list replace: match must return a boolean, got {type_name(verdict)}"
            )
        out.append(new if verdict is True else v)
    return out
