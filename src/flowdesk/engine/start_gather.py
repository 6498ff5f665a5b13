"""Parallel multiple start events (BPMN 2.0.2 10.5.2 and 13.5: "all of the triggers must
occur before the Process is instantiated"): which held triggers complete a start event's set.

Pure: the runtime holds the triggers durably and asks here, on each arrival, whether a set is
complete. A trigger is named "message:NAME", "signal:NAME" or "timer". Triggers are grouped by
correlation key: a message with a key belongs to that key's set; a trigger without one (a
signal, a timer, a message sent without a key) may complete any key's set, oldest key first.
Each held trigger completes one set only, oldest first within its name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flowdesk.bpmn.model import Node


def trigger_name(kind: str, ref: str | None) -> str:
    return kind if kind == "timer" or not ref else f"{kind}:{ref}"


def required(node: Node) -> tuple[str, ...]:
    """The distinct triggers a parallel multiple start event waits for, in model order."""
    names = (trigger_name(d.kind, d.ref) for d in node.events)
    return tuple(dict.fromkeys(names))


def missing(node: Node, held: Sequence[Mapping[str, Any]], key: str | None) -> list[str]:
    """Triggers of `node` that no held row of `key` (or of no key) covers yet."""
    have = {r["trigger"] for r in held if r["correlation_key"] in (key, None)}
    return [t for t in required(node) if t not in have]


def complete_set(
    node: Node, held: Sequence[Mapping[str, Any]], key: str | None
) -> tuple[str | None, list[Mapping[str, Any]]] | None:
    """(key, rows in arrival order) of the first complete set after a trigger of `key` came,
    or None. `held` is every held row of the start event, oldest first, the new one included."""
    if key is not None:
        keys: list[str | None] = [key]
    else:
        keys = [None, *dict.fromkeys(r["correlation_key"] for r in held if r["correlation_key"])]
    for candidate in keys:
        chosen: list[Mapping[str, Any]] = []
        for name in required(node):
            row = _oldest(held, name, candidate)
            if row is None:
                break
            chosen.append(row)
        else:
            order = {id(r): i for i, r in enumerate(held)}
            return candidate, sorted(chosen, key=lambda r: order[id(r)])
    return None


def merged_variables(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Every trigger's payload, in arrival order (a later trigger's value wins)."""
    out: dict[str, Any] = {}
    for row in rows:
        out.update(row.get("variables") or {})
    return out


def _oldest(
    held: Sequence[Mapping[str, Any]], name: str, key: str | None
) -> Mapping[str, Any] | None:
    own = next((r for r in held if r["trigger"] == name and r["correlation_key"] == key), None)
    if own is not None or key is None:
        return own
    return next((r for r in held if r["trigger"] == name and r["correlation_key"] is None), None)
