"""A coin's indicators read in words: each finding from the values that make it, none from missing ones."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.domain.market_reading import Finding, read_brief, read_wider

D = Decimal


def keys(findings: tuple[Finding, ...]) -> list[str]:
    return [f.key for f in findings]


@pytest.mark.parametrize(("price", "ema50", "ema200", "key", "tone"), [
    (110, 105, 100, "uptrend", "up"), (90, 95, 100, "downtrend", "down"), (102, 105, 100, "pullback", "neutral"),
    (98, 95, 100, "rebound", "neutral"), (110, 100, 105, "recovering", "up"), (90, 100, 95, "weakening", "down"),
])
def test_trend_from_the_price_and_both_emas(price: int, ema50: int, ema200: int, key: str, tone: str) -> None:
    found = read_brief(D(price), {"ema50": D(ema50), "ema200": D(ema200)})
    assert found == (Finding.of(key, tone, ema50=D(ema50), ema200=D(ema200)),)


def test_without_ema200_the_trend_says_so() -> None:
    assert keys(read_brief(D(10), {"ema50": D(9)})) == ["short_trend_up"]


def test_momentum_bands_range_and_volume() -> None:
    values = {"rsi": D("25.5"), "macd": D(2), "macd_signal": D(1), "macd_hist": D(1), "macd_hist_prev": D(2),
              "bb_lower": D(90), "bb_upper": D(110), "atr": D(2), "volume_ratio": D("1.234")}
    found = read_brief(D(105), values)
    assert keys(found) == ["rsi_oversold", "macd_up", "inside_bands", "atr", "volume"]
    assert found[2].values == {"lower": "90", "upper": "110", "position": "75"}
    assert found[3].values == {"atr": "2", "percent": "1.9"}
    assert found[4].text == "Volume 1.23× its 20-candle average"


def test_a_macd_cross_is_named_as_such() -> None:
    crossed = read_brief(D(1), {"macd": D(1), "macd_signal": D("0.9"), "macd_hist": D("0.1"),
                                "macd_hist_prev": D("-0.1")})
    assert keys(crossed) == ["macd_cross_up"]


def test_price_outside_the_bands() -> None:
    assert keys(read_brief(D(120), {"bb_lower": D(90), "bb_upper": D(110)})) == ["above_band"]
    assert keys(read_brief(D(80), {"bb_lower": D(90), "bb_upper": D(110)})) == ["below_band"]


def test_the_wider_set() -> None:
    values = {"adx": D(31), "dmp": D(10), "dmn": D(20), "stochrsi_k": D(95), "stochrsi_d": D(85),
              "obv_slope": D(-5), "supertrend": D(105), "supertrend_direction": D(-1), "ichimoku_a": D(101),
              "ichimoku_b": D(103), "tenkan": D(99), "kijun": D(100)}
    found = read_wider(D(100), values)
    assert keys(found) == ["adx_sellers", "stochrsi_overbought", "obv_falling", "supertrend_down", "below_cloud",
                           "tenkan_below"]
    assert found[4].values == {"bottom": "101"}
    assert keys(read_wider(D(102), {"adx": D(12), "ichimoku_a": D(101), "ichimoku_b": D(103)})) == \
        ["adx_weak", "inside_cloud"]


def test_nothing_is_guessed_from_missing_values() -> None:
    assert read_brief(D(1), {}) == () and read_wider(D(1), {}) == ()
