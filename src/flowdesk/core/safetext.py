"""Text no store can hold and structures no reader should walk: refused where they enter.

A lone UTF-16 surrogate cannot be encoded as UTF-8 (SQLite's driver raises on it), a NUL
character cannot be stored in a PostgreSQL text column, and a JSON document nested thousands
of levels deep makes any recursive reader (json, pydantic, FEEL conversion) hit Python's
recursion limit. Each is refused with a message saying where it is, before anything is stored.
"""

from __future__ import annotations

import re
from typing import Any

#: Deeper than any real payload (CloudEvents, contacts, variables) and far below the
#: recursion limit of every reader downstream.
MAX_DEPTH = 64

_BAD = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored, or None when it can."""
    found = _BAD.search(value)
    if found is None:
        return None
    char = found.group()
    offset = found.start()
    if char == "\x00":
        return f"a NUL character at offset {offset}"
    return f"a lone surrogate U+{ord(char):04X} at offset {offset}"


def json_problem(value: Any, *, max_depth: int = MAX_DEPTH) -> str | None:
    """Why a parsed JSON value cannot be accepted (too deep, bad text in a key or a string,
    with the JSON pointer of where), or None. Walks without recursion."""
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            bad = text_problem(item)
            if bad:
                return f"{bad} in {where or '/'}"
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > max_depth:
            return f"nested more than {max_depth} levels deep at {where or '/'}"
        if isinstance(item, dict):
            for key, child in item.items():
                path = f"{where}/{_pointer(str(key))}"
                bad = text_problem(str(key))
                if bad:
                    return f"{bad} in a key at {path}"
                stack.append((child, path, depth + 1))
        else:
            stack.extend((child, f"{where}/{i}", depth + 1) for i, child in enumerate(item))
    return None


def _pointer(key: str) -> str:
    """A JSON pointer step, with bad characters written as escapes (the message is JSON too)."""
    key = key.replace("~", "~0").replace("/", "~1")
    return _BAD.sub(lambda m: f"\\u{ord(m.group()):04x}", key)
