"""FEEL ranges (`[1..10)`, and the open-ended ranges behind unary tests such as `< 10`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowdesk.feel.errors import FeelRuntimeError


@dataclass(frozen=True, slots=True)
class Range:
    """An interval; `start`/`end` None means unbounded on that side (`< 10` has no start)."""

    start: Any
    end: Any
    start_included: bool = True
    end_included: bool = True

    def contains(self, value: Any) -> bool | None:
        """Whether `value` lies in the range; None when the value is null or not comparable
        with the endpoints (a string against a number range)."""
        from flowdesk.feel.equality import compare

        if value is None:
            return None
        try:
            if self.start is not None:
                c = compare(value, self.start)
                if c is None:
                    return None
                if c < 0 or (c == 0 and not self.start_included):
                    return False
            if self.end is not None:
                c = compare(value, self.end)
                if c is None:
                    return None
                if c > 0 or (c == 0 and not self.end_included):
                    return False
        except FeelRuntimeError:
            return None
        return True
