"""Decision table hit policies (DMN 1.5 section 8.2.11), as pure functions over matched rows.

A row is the list of output values of one matched rule, in rule order. Single-hit policies
(U, A, P, F) reduce the rows to one row; multiple-hit policies (R, O, C) keep a list; C with an
aggregation (+ < > #) reduces the single output column to one value. Conflicts (U with several
matches, A with differing outputs) are errors: the result is null plus a diagnostic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from flowdesk.feel import values
from flowdesk.feel.errors import FeelRuntimeError
from flowdesk.feel.runtime import Env

#: hitPolicy attribute values (and their one-letter abbreviations) -> abbreviation.
HIT_POLICIES: dict[str, str] = {
    "UNIQUE": "U",
    "ANY": "A",
    "PRIORITY": "P",
    "FIRST": "F",
    "RULE ORDER": "R",
    "OUTPUT ORDER": "O",
    "COLLECT": "C",
}
#: aggregation attribute values -> operator.
AGGREGATIONS: dict[str, str] = {"SUM": "+", "MIN": "<", "MAX": ">", "COUNT": "#"}

SINGLE_HIT = frozenset({"U", "A", "P", "F"})
Row = list[Any]
PriorityKey = Callable[[Row], tuple[int, ...]]


def parse_hit_policy(hit_policy: str | None, aggregation: str | None) -> str | None:
    """'U', 'A', ..., 'C', 'C+', 'C<', 'C>', 'C#'; None when the combination is unknown."""
    text = (hit_policy or "UNIQUE").strip().upper()
    code = HIT_POLICIES.get(text)
    if code is None and text in HIT_POLICIES.values():
        code = text
    if code is None and len(text) == 2 and text[0] == "C" and text[1] in "+<>#":
        return text
    if code is None:
        return None
    if aggregation:
        op = AGGREGATIONS.get(aggregation.strip().upper())
        if op is None or code != "C":
            return None
        return "C" + op
    return code


def pick_single(
    code: str, rows: Sequence[Row], key: PriorityKey, env: Env, where: str
) -> Row | None:
    """The one row a single-hit policy selects from the matched rows (None: no result)."""
    if not rows:
        return None
    if code == "F":
        return rows[0]
    if code == "U":
        if len(rows) > 1:
            env.diagnostics.add(
                f"{where}: hit policy UNIQUE but {len(rows)} rules match; result null"
            )
            return None
        return rows[0]
    if code == "A":
        first = rows[0]
        for other in rows[1:]:
            if not _rows_equal(first, other):
                env.diagnostics.add(
                    f"{where}: hit policy ANY but the matching rules give different outputs; "
                    "result null"
                )
                return None
        return first
    if code == "P":
        return min(rows, key=key)  # min keeps the first of equal priorities (rule order)
    raise ValueError(f"not a single-hit policy: {code}")


def order_multi(code: str, rows: Sequence[Row], key: PriorityKey) -> list[Row]:
    """Rows of a multiple-hit policy: rule order (R, C) or decreasing priority (O, stable)."""
    if code == "O":
        return sorted(rows, key=key)
    return list(rows)


def aggregate(op: str, column: Sequence[Any], env: Env, where: str) -> Any:
    """C+ sum, C< min, C> max, C# count of the single output column.

    Empty input: count is 0; sum, min and max are null (as FEEL sum/min/max of []).
    Count counts distinct values, as the spec's "number of distinct outputs".
    """
    if op == "#":
        distinct: list[Any] = []
        for v in column:
            if not any(_equal(v, d) for d in distinct):
                distinct.append(v)
        return Decimal(len(distinct))
    if not column:
        return None
    try:
        if op == "+":
            total: Any = column[0]
            for v in column[1:]:
                total = values.add(total, v)
            if total is not None and not isinstance(total, Decimal):
                raise FeelRuntimeError("sum needs numbers")
            return total
        best = column[0]
        for v in column[1:]:
            c = values.compare(v, best)
            if c is None:
                return None
            if (op == "<" and c < 0) or (op == ">" and c > 0):
                best = v
        return best
    except FeelRuntimeError as exc:
        env.diagnostics.add(f"{where}: cannot aggregate the outputs with C{op}: {exc}; result null")
        return None


def _equal(a: Any, b: Any) -> bool:
    try:
        return values.equals(a, b) is True
    except FeelRuntimeError:
        return False


def _rows_equal(a: Row, b: Row) -> bool:
    return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
