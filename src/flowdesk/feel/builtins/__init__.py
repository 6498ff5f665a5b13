"""Every built-in function of DMN 1.5 (section 10.3.4), keyed by its spec name.

Each group lives in its own module and registers itself on import; `BUILTINS` is the result.
Built-ins take FEEL values, return FEEL values, return null for null arguments per the spec and
raise FeelRuntimeError (null plus a diagnostic for the caller) for arguments of the wrong type.
"""

from __future__ import annotations

from flowdesk.feel.builtins import (  # noqa: F401  (imported to register their functions)
    boolean,
    contexts,
    conversion,
    lists,
    misc,
    numeric,
    ranges,
    sort,
    strings,
    temporal,
)
from flowdesk.feel.builtins.base import REGISTRY, Builtin
from flowdesk.feel.runtime import FeelFunction

BUILTINS: dict[str, FeelFunction] = dict(REGISTRY)

__all__ = ["BUILTINS", "Builtin"]
