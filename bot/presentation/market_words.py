"""A coin's analysis findings (`bot.domain.market_reading`) in the reader's words and digits."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from bot.domain.market_reading import TEMPLATES, Finding
from bot.presentation.formatting import number, quantize

log = logging.getLogger(__name__)
SIGNIFICANT = 4


def indicator_number(value: Decimal, locale: str) -> str:
    """An indicator's value as a reader wants it: 2 decimals from 1 up (`41,686.43`, `52.59`),
    4 significant digits below 1 (`0.7444`, `0.00001234`)."""
    if value == 0:
        return "0"
    if abs(value) >= 1:
        return number(value, locale, decimals=2)
    leading_zeros = -value.copy_abs().adjusted() - 1
    return number(quantize(value, min(12, leading_zeros + SIGNIFICANT)).normalize(), locale)


# Shares of something, shown as percentages are: a band position in whole points, a share with 2 decimals.
PERCENT_DECIMALS = {"position": 0, "percent": 2}


def finding_text(finding: Finding, translate: Callable[[str], str], locale: str) -> str:
    values = {}
    for name, raw in finding.args:
        try:
            value = Decimal(raw)
        except InvalidOperation:
            values[name] = raw
            continue
        decimals = PERCENT_DECIMALS.get(name)
        values[name] = indicator_number(value, locale) if decimals is None else number(value, locale,
                                                                                        decimals=decimals)
    try:
        return translate(TEMPLATES[finding.key]).format(**values)
    except (KeyError, IndexError, ValueError):
        log.warning("translation of finding %s does not fit its values", finding.key)
        return finding.text
