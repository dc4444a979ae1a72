"""Money carries its currency and its precision; digits follow the reader's locale."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.presentation.formatting import money, number, percent, price, quantity, when

D = Decimal
NB = "\u00a0"


@pytest.mark.parametrize(("locale", "expected"), [("en", f"-45.21{NB}USDT"), ("es", f"-45,21{NB}USDT")])
def test_money_is_rounded_to_the_currency_and_names_it(locale: str, expected: str) -> None:
    assert money(D("-45.209927125"), "USDT", locale) == expected


def test_signed_money_and_thousands_per_locale() -> None:
    assert money(D("1234.5"), "USDT", "en", signed=True) == f"+1,234.50{NB}USDT"
    assert money(D("1234.5"), "USDT", "es", signed=True) == f"+1.234,50{NB}USDT"
    assert money(D("0.001"), "USDT", "en", signed=True) == f"0.00{NB}USDT"


def test_prices_keep_their_ticks_and_quantities_stay_exact() -> None:
    assert price(D("97000"), "USDT", "en") == f"97,000.00{NB}USDT"
    assert price(D("0.000123"), "USDT", "es") == f"0,000123{NB}USDT"
    assert quantity(D("0.0150"), "BTC", "es") == f"0,015{NB}BTC"
    # a cash holding is money: the exchange's 9 decimals of USDT dust are not shown (seen in /portfolio)
    assert quantity(D("9700.666755823"), "USDT", "es") == f"9.700,67{NB}USDT"
    assert number(D("1234.56"), "es") == "1.234,56"
    assert percent(D("3"), "en", signed=True) == f"+3.00{NB}%"


def test_times_are_shown_in_the_readers_zone() -> None:
    moment = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    assert when(moment, "en", "Europe/Madrid").endswith("CET")
    assert "09:00" in when(moment, "es", "Europe/Madrid")
    assert when(moment, "en", "UTC") == "Dec 5, 2026, 08:00 UTC"
