"""FEEL numbers: decimal.Decimal computed in one fixed context (34 digits, half-even).

FEEL numbers follow IEEE 754-2008 Decimal128, so every arithmetic result goes through
`FEEL_CONTEXT`, never the thread-local decimal context, which callers could have changed.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal, DecimalException, InvalidOperation
from typing import Any, TypeGuard

from flowdesk.feel.errors import FeelRuntimeError

FEEL_CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN, Emax=6144, Emin=-6143)

_ONE = Decimal(1)


def is_number(value: Any) -> TypeGuard[Decimal]:
    """True for FEEL numbers; bool is an int subclass and is never a number."""
    return isinstance(value, Decimal)


def normalize(value: Decimal) -> Decimal:
    """Canonical form of a result: integral values get exponent 0 (`5.0` -> `5`), other
    values lose trailing zeros (`2.50` -> `2.5`), and `-0` becomes `0`."""
    if not value.is_finite():
        raise FeelRuntimeError(f"number is not finite: {value}")
    if value.is_zero():
        return Decimal(0)
    try:
        if value == value.to_integral_value(context=FEEL_CONTEXT):
            try:
                return value.quantize(_ONE, context=FEEL_CONTEXT)
            except InvalidOperation:
                pass  # more than 34 integer digits: keep an exponent
        return value.normalize(FEEL_CONTEXT)
    except DecimalException:
        raise FeelRuntimeError(f"number {value:.6E} is outside the FEEL number range") from None


def checked(op: str, value: Decimal) -> Decimal:
    """Reject NaN and infinities, which FEEL numbers cannot hold; normalise the rest."""
    if value.is_nan() or value.is_infinite():
        raise FeelRuntimeError(f"{op}: result is not a finite number")
    return normalize(value)


def from_python(value: int | float) -> Decimal:
    """Convert a Python int or float (via its shortest repr) to a FEEL number."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a FEEL number")
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise TypeError(f"{value} is not a finite number")
        return normalize(Decimal(repr(value)))
    return Decimal(value)


def to_plain_string(value: Decimal) -> str:
    """Render without exponent: `1E+3` -> `1000`, `1.50` -> `1.50`, `-0` -> `0`."""
    if value.is_zero():
        return "0"
    text = format(value, "f")
    return text


def is_integral(value: Decimal) -> bool:
    return value.is_finite() and value == value.to_integral_value(context=FEEL_CONTEXT)
