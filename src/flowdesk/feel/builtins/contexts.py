"""Context functions (DMN 1.5 table 80): get value, get entries, context, context put,
context merge. Contexts are dicts; results are new dicts, arguments are never mutated."""

from __future__ import annotations

from typing import Any

from flowdesk.feel.builtins.base import a_list, builtin, context, text
from flowdesk.feel.errors import FeelRuntimeError
from flowdesk.feel.runtime import Env
from flowdesk.feel.values import type_name


def _path(fname: str, key: Any) -> list[str]:
    """A key or a non-empty list of keys (a path into nested contexts)."""
    if isinstance(key, str):
        return [key]
    if isinstance(key, list) and key:
        return [text(fname, "keys", k) for k in key]
    if isinstance(key, list):
        raise FeelRuntimeError(f"{fname}: the list of keys must not be empty")
    raise FeelRuntimeError(
        f"{fname}: key must be a string or a list of strings, got {type_name(key)}"
    )


@builtin("get value", "m", "key")
def get_value(env: Env, m: Any, key: Any) -> Any:
    """The value at `key` (or at a path of keys); null when absent."""
    current: Any = context("get value", "m", m)
    for k in _path("get value", key):
        if not isinstance(current, dict):
            return None
        current = current.get(k)
    return current


@builtin("get entries", "m")
def get_entries(env: Env, m: Any) -> list[Any]:
    return [{"key": k, "value": v} for k, v in context("get entries", "m", m).items()]


@builtin("context", "entries")
def context_(env: Env, entries: Any) -> dict[str, Any]:
    """Build a context from `[{key: "a", value: 1}, ...]`; duplicate keys are an error."""
    items = [entries] if isinstance(entries, dict) else a_list("context", "entries", entries)
    out: dict[str, Any] = {}
    for entry in items:
        if not isinstance(entry, dict) or "key" not in entry or "value" not in entry:
            raise FeelRuntimeError("context: each entry must be a context with 'key' and 'value'")
        key = entry["key"]
        if not isinstance(key, str):
            raise FeelRuntimeError(f"context: entry key must be a string, got {type_name(key)}")
        if key in out:
            raise FeelRuntimeError(f"context: duplicate key '{key}'")
        out[key] = entry["value"]
    return out


@builtin("context put", "context", "key", "value", nullable=("value",), positional_only=True)
def context_put(env: Env, ctx: Any, key: Any, value: Any) -> dict[str, Any]:
    """A copy of the context with the entry set; an existing entry keeps its position.
    Positionally the second argument is a key or a list of keys (Table 80 has both forms)."""
    return _put(context("context put", "context", ctx), _path("context put", key), value)


@builtin("context put", "context", "key", "value", nullable=("value",))
def context_put_key(env: Env, ctx: Any, key: Any, value: Any) -> dict[str, Any]:
    """Named `key:` is the one-key form of Table 80: a string, never a path."""
    return _put(context("context put", "context", ctx), [text("context put", "key", key)], value)


@builtin("context put", "context", "keys", "value", nullable=("value",))
def context_put_path(env: Env, ctx: Any, keys: Any, value: Any) -> dict[str, Any]:
    if not isinstance(keys, list):
        raise FeelRuntimeError(f"context put: keys must be a list, got {type_name(keys)}")
    return _put(context("context put", "context", ctx), _path("context put", keys), value)


def _put(ctx: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    out = dict(ctx)
    head, rest = path[0], path[1:]
    if not rest:
        out[head] = value
        return out
    inner = ctx.get(head)
    if not isinstance(inner, dict):
        raise FeelRuntimeError(f"context put: entry '{head}' is not a context")
    out[head] = _put(inner, rest, value)
    return out


@builtin("context merge", "contexts")
def context_merge(env: Env, contexts: Any) -> dict[str, Any]:
    """Entries of all contexts; a later context's entry wins over an earlier one. One context
    where the list is expected is that singleton list (10.3.2.9.4, to singleton list)."""
    out: dict[str, Any] = {}
    items = [contexts] if isinstance(contexts, dict) else contexts
    for ctx in a_list("context merge", "contexts", items):
        out.update(context("context merge", "contexts item", ctx))
    return out
