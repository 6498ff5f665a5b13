"""Numeric functions (DMN 1.5 table 74). Rounding uses the decimal module's exact modes, so
`round half up(-1.126, 2)` is -1.13 and `decimal(2.5, 0)` is 2 (half even)."""

from __future__ import annotations

import decimal
from datetime import timedelta
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
)
from typing import Any

from flowdesk.feel.builtins.base import bad, builtin, integer, num
from flowdesk.feel.durations import YearsMonthsDuration
from flowdesk.feel.errors import FeelRuntimeError
from flowdesk.feel.numbers import FEEL_CONTEXT, is_integral, normalize
from flowdesk.feel.runtime import Env

_MIN_SCALE, _MAX_SCALE = -6111, 6176


def _scaled(fname: str, n: Any, scale: Any, rounding: str) -> Decimal:
    value = num(fname, "n", n)
    s = 0 if scale is None else integer(fname, "scale", scale)
    if not _MIN_SCALE <= s <= _MAX_SCALE:
        raise FeelRuntimeError(f"{fname}: scale {s} is outside {_MIN_SCALE}..{_MAX_SCALE}")
    try:
        result = value.quantize(Decimal(1).scaleb(-s), rounding=rounding, context=FEEL_CONTEXT)
    except decimal.InvalidOperation:
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent >= -s:
            return value  # more than 34 digits at that scale, but nothing to round
        raise FeelRuntimeError(f"{fname}: {value} cannot be rounded to scale {s}") from None
    return Decimal(0) if result.is_zero() else result


@builtin("decimal", "n", "scale")
def decimal_(env: Env, n: Any, scale: Any) -> Decimal:
    return _scaled("decimal", n, scale, ROUND_HALF_EVEN)


@builtin("floor", "n")
def floor(env: Env, n: Any) -> Decimal:
    return _scaled("floor", n, None, ROUND_FLOOR)


@builtin("floor", "n", "scale")
def floor_scaled(env: Env, n: Any, scale: Any) -> Decimal:
    return _scaled("floor", n, scale, ROUND_FLOOR)


@builtin("ceiling", "n")
def ceiling(env: Env, n: Any) -> Decimal:
    return _scaled("ceiling", n, None, ROUND_CEILING)


@builtin("ceiling", "n", "scale")
def ceiling_scaled(env: Env, n: Any, scale: Any) -> Decimal:
    return _scaled("ceiling", n, scale, ROUND_CEILING)


@builtin("round up", "n", "scale")
def round_up(env: Env, n: Any, scale: Any) -> Decimal:
    return _scaled("round up", n, scale, ROUND_UP)


@builtin("round down", "n", "scale")
def round_down(env: Env, n: Any, scale: Any) -> Decimal:
    return _scaled("round down", n, scale, ROUND_DOWN)


@builtin("round half up", "n", "scale")
def round_half_up(env: Env, n: Any, scale: Any) -> Decimal:
    return _scaled("round half up", n, scale, ROUND_HALF_UP)


@builtin("round half down", "n", "scale")
def round_half_down(env: Env, n: Any, scale: Any) -> Decimal:
    return _scaled("round half down", n, scale, ROUND_HALF_DOWN)


@builtin("abs", "n")
def abs_(env: Env, n: Any) -> Decimal | timedelta | YearsMonthsDuration:
    """Absolute value of a number or a duration."""
    if isinstance(n, Decimal):
        return normalize(FEEL_CONTEXT.abs(n))
    if isinstance(n, timedelta):
        return abs(n)
    if isinstance(n, YearsMonthsDuration):
        return YearsMonthsDuration(abs(n.months))
    raise bad("abs", "n", "a number or duration", n)


@builtin("modulo", "dividend", "divisor")
def modulo(env: Env, dividend: Any, divisor: Any) -> Decimal:
    """dividend - divisor * floor(dividend / divisor): the result has the divisor's sign."""
    a = num("modulo", "dividend", dividend)
    b = num("modulo", "divisor", divisor)
    if b.is_zero():
        raise FeelRuntimeError("modulo: division by zero")
    quotient = FEEL_CONTEXT.divide(a, b).to_integral_value(rounding=ROUND_FLOOR)
    return normalize(FEEL_CONTEXT.subtract(a, FEEL_CONTEXT.multiply(b, quotient)))


@builtin("sqrt", "number")
def sqrt(env: Env, number: Any) -> Decimal:
    n = num("sqrt", "number", number)
    if n < 0:
        raise FeelRuntimeError(f"sqrt: number must not be negative, got {n}")
    return normalize(FEEL_CONTEXT.sqrt(n))


@builtin("log", "number")
def log(env: Env, number: Any) -> Decimal:
    """Natural logarithm; null (with a diagnostic) for zero and negative numbers."""
    n = num("log", "number", number)
    if n <= 0:
        raise FeelRuntimeError(f"log: number must be positive, got {n}")
    return normalize(FEEL_CONTEXT.ln(n))


@builtin("exp", "number")
def exp(env: Env, number: Any) -> Decimal:
    n = num("exp", "number", number)
    try:
        return normalize(FEEL_CONTEXT.exp(n))
    except decimal.Overflow:
        raise FeelRuntimeError(f"exp: result for {n} is too large") from None


def _integer(fname: str, number: Any) -> Decimal:
    n = num(fname, "number", number)
    if not is_integral(n):
        raise FeelRuntimeError(f"{fname}: number must be an integer, got {n}")
    return n


@builtin("odd", "number")
def odd(env: Env, number: Any) -> bool:
    return int(_integer("odd", number)) % 2 != 0


@builtin("even", "number")
def even(env: Env, number: Any) -> bool:
    return int(_integer("even", number)) % 2 == 0
