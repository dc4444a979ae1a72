"""Exact money math: Decimal only, rounded to an instrument's ticks, printed as plain strings."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal, InvalidOperation

ZERO = Decimal(0)


def to_decimal(value: object) -> Decimal:
    """Parse an exchange number (string, int or Decimal) exactly; floats go through repr."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, float):
        value = repr(value)
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Largest multiple of `step` that is <= value."""
    return (value / step).to_integral_value(ROUND_FLOOR) * step


def ceil_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Smallest multiple of `step` that is >= value."""
    return (value / step).to_integral_value(ROUND_CEILING) * step


def truncate_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Toward zero: a quantity is never rounded up past what was asked."""
    return (value / step).to_integral_value(ROUND_DOWN) * step


def plain(value: Decimal) -> str:
    """Plain decimal text with no exponent and no trailing zeros: what the exchange accepts."""
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def percent_of(value: Decimal, percent: Decimal) -> Decimal:
    return value * percent / Decimal(100)
