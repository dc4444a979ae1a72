"""Numbers, money, quantities and times for a reader, per locale (Babel), shared by bot and Mini App.

Money is rounded to its currency's precision and always carries the currency ("-45.21 USDT");
prices keep the precision the instrument gives them; times are shown in the reader's time zone.
Babel separates with NBSP / narrow NBSP in some locales (e.g. "1.234,56" in es, "7:30\u202fPM").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_timedelta
from babel.numbers import format_decimal

# Decimals shown for an amount of each currency; anything else (coins) keeps up to 8.
CURRENCY_DECIMALS = {"USD": 2, "USDT": 2, "USDC": 2, "EUR": 2, "BTC": 8, "ETH": 6}
STABLE_QUOTES = ("USD", "USDT", "USDC")
CASH = frozenset(c for c, decimals in CURRENCY_DECIMALS.items() if decimals == 2)
DEFAULT_COIN_DECIMALS = 8


def quantize(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)


def number(value: Decimal, locale: str, *, decimals: int | None = None, min_decimals: int = 0) -> str:
    """A plain number in the locale's digits: `1,234.5` (en), `1.234,5` (es)."""
    if decimals is not None:
        value = quantize(value, decimals)
        min_decimals = decimals
    exponent = value.normalize().as_tuple().exponent
    places = max(min_decimals, -exponent if isinstance(exponent, int) and exponent < 0 else 0)
    pattern = "#,##0" + ("." + "0" * min_decimals + "#" * (places - min_decimals) if places else "")
    return format_decimal(value, format=pattern, locale=locale, decimal_quantization=False)


def money(value: Decimal, currency: str, locale: str, *, signed: bool = False) -> str:
    """`-45.21 USDT`: rounded to the currency's precision, with the currency after the amount."""
    decimals = CURRENCY_DECIMALS.get(currency.upper(), DEFAULT_COIN_DECIMALS)
    text = number(value, locale, decimals=decimals)
    if signed and quantize(value, decimals) > 0:
        text = "+" + text
    return f"{text}\u00a0{currency}"


def quantity(value: Decimal, asset: str, locale: str) -> str:
    """A coin amount, exact (no rounding), without trailing zeros: `0.015 BTC`. An amount of a cash
    currency is money (`9,700.67 USDT`, not the exchange's `9700.666755823`)."""
    return f"{amount(value, asset, locale)}\u00a0{asset}"


def amount(value: Decimal, asset: str, locale: str) -> str:
    """`quantity` without its unit (a table whose other column names the asset)."""
    if asset.upper() in CASH:
        return number(value, locale, decimals=CURRENCY_DECIMALS[asset.upper()])
    return number(value, locale)


def price(value: Decimal, quote: str, locale: str) -> str:
    """A price as exact as the instrument made it, at least the quote currency's precision."""
    minimum = CURRENCY_DECIMALS.get(quote.upper(), 2) if value >= 1 else 0
    return f"{number(value, locale, min_decimals=minimum)}\u00a0{quote}"


def percent(value: Decimal, locale: str, *, signed: bool = False) -> str:
    text = number(value, locale, decimals=2)
    if signed and value > 0:
        text = "+" + text
    return f"{text}\u00a0%"


def when(moment: datetime, locale: str, timezone: str = "UTC", *, with_zone: bool = True) -> str:
    """A moment in the reader's zone: `Dec 5, 2026, 09:00 CET` (en) / `5 dic 2026, 09:00 CET` (es)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(ZoneInfo(timezone))
    # 24-hour clock in both languages: what traders read; the date in the locale's medium form.
    text = f"{format_date(local, format='medium', locale=locale)}, {local:%H:%M}"
    return f"{text} {local.tzname()}" if with_zone else text


def duration(seconds: float, locale: str) -> str:
    """How long something lasted, in words: `3 minutes` (en) / `3 minutos` (es)."""
    return format_timedelta(timedelta(seconds=max(1.0, seconds)), threshold=1.5, locale=locale)


def split_symbol(symbol: str) -> tuple[str, str]:
    """`BTC_USDT` -> (`BTC`, `USDT`)."""
    base, _, quote = symbol.partition("_")
    return base, quote or "USD"
