"""Values across the doors: JSON input as FEEL values (numbers become exact Decimals), FEEL and
engine values back as plain JSON. Both doors and every use case convert the same way."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flowdesk.core.errors import FlowdeskError
from flowdesk.core.jsonutil import json_default
from flowdesk.feel.values import to_feel


class InvalidInput(FlowdeskError):
    """Input that cannot be carried out as given (HTTP 422)."""

    code = "invalid-input"


def plain(value: Any) -> Any:
    """FEEL / engine values as plain JSON (Decimal as number, dates ISO, durations ISO 8601)."""
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(value: Any) -> Any:
    try:
        return json_default(value)
    except TypeError:
        return str(value)  # ranges, functions: their FEEL text rather than a server error


def feel_variables(variables: Mapping[str, Any] | None, where: str = "variables") -> dict[str, Any]:
    """JSON input as FEEL values (numbers become exact Decimals)."""
    out: dict[str, Any] = {}
    for name, value in (variables or {}).items():
        if not name:
            raise InvalidInput(f"{where}: a variable name must not be empty")
        try:
            out[name] = to_feel(value)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"{where}.{name}: {exc}") from exc
    return out
