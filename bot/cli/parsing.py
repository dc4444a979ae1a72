"""Numbers the command lines read from their arguments, with the one-line refusal each prints."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def positive_decimal(text: str, name: str, *, example: str, error: type[Exception]) -> Decimal:
    """`text` as a positive, finite number, else `error` naming the argument and an example."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise error(f"{name} {text!r} is not a number; expected e.g. {example}") from None
    if not value.is_finite() or value <= 0:
        raise error(f"{name} {text!r} must be greater than 0, e.g. {example}")
    return value
