"""sort(list, precedes): a stable sort driven by a FEEL function, invoked like any other
function value; without `precedes`, the natural order of the items."""

from __future__ import annotations

from functools import cmp_to_key
from typing import Any

from flowdesk.feel.builtins.base import a_list, builtin, function
from flowdesk.feel.equality import compare
from flowdesk.feel.errors import FeelRuntimeError
from flowdesk.feel.runtime import Env
from flowdesk.feel.values import type_name


@builtin("sort", "list", "precedes", required=1)
def sort(env: Env, items: Any, precedes: Any) -> list[Any]:
    values = a_list("sort", "list", items)
    if len(values) > env.limits.max_iterations:
        raise FeelRuntimeError("sort: list is too long")
    if precedes is None:
        return sorted(values, key=cmp_to_key(_natural))
    fn = function("sort", "precedes", precedes)

    def before(a: Any, b: Any) -> bool:
        verdict = fn.invoke(env, [a, b], None)
        if not isinstance(verdict, bool):
            raise FeelRuntimeError(
                f"sort: precedes must return a boolean, got {type_name(verdict)}"
            )
        return verdict

    def order(a: Any, b: Any) -> int:
        if before(a, b):
            return -1
        return 1 if before(b, a) else 0

    return sorted(values, key=cmp_to_key(order))


def _natural(a: Any, b: Any) -> int:
    c = compare(a, b)
    if c is None:
        raise FeelRuntimeError("sort: cannot sort a list containing null without precedes")
    return c
