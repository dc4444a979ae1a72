"""Indicators on a real candle file, checked against independent formulas written here."""

from __future__ import annotations

import csv
import itertools
from decimal import Decimal

import pytest

from bot.exchange.base import Candle
from bot.services.indicators import MIN_CANDLES, CandleArrays, compute_indicators, data_problem, indicators_at
from tests.conftest import candle_file


def load(name: str) -> list[Candle]:
    with candle_file(name).open() as handle:
        return [Candle(int(r["timestamp_ms"]), Decimal(r["open"]), Decimal(r["high"]), Decimal(r["low"]),
                       Decimal(r["close"]), Decimal(r["volume"])) for r in csv.DictReader(handle)]


def wilder_rsi(closes: list[float], length: int = 14) -> float:
    gains = [max(b - a, 0.0) for a, b in itertools.pairwise(closes)]
    losses = [max(a - b, 0.0) for a, b in itertools.pairwise(closes)]
    avg_gain, avg_loss = sum(gains[:length]) / length, sum(losses[:length]) / length
    for gain, loss in zip(gains[length:], losses[length:], strict=False):
        avg_gain = (avg_gain * (length - 1) + gain) / length
        avg_loss = (avg_loss * (length - 1) + loss) / length
    return 100.0 if avg_loss == 0 else 100 - 100 / (1 + avg_gain / avg_loss)


def ema(closes: list[float], length: int) -> float:
    alpha = 2 / (length + 1)
    value = sum(closes[:length]) / length      # seeded with the SMA of the first `length` closes
    for price in closes[length:]:
        value = alpha * price + (1 - alpha) * value
    return value


@pytest.fixture(scope="module")
def btc() -> list[Candle]:
    return load("BTC_USDT-1h.csv")[:500]


def test_rsi_matches_wilders_formula(btc: list[Candle]) -> None:
    result = compute_indicators(btc)
    assert not result.stale
    assert abs(float(result.values["rsi"]) - wilder_rsi([float(c.close) for c in btc])) < 1e-6


@pytest.mark.parametrize("length", [10, 50, 200])
def test_ema_matches_its_recurrence(btc: list[Candle], length: int) -> None:
    result = compute_indicators(btc)
    assert abs(float(result.values[f"ema{length}"]) - ema([float(c.close) for c in btc], length)) < 1e-6


def test_sma_bollinger_and_volume_ratio(btc: list[Candle]) -> None:
    values = compute_indicators(btc).values
    closes = [float(c.close) for c in btc[-20:]]
    mean = sum(closes) / 20
    std = (sum((c - mean) ** 2 for c in closes) / 20) ** 0.5
    assert abs(float(values["sma20"]) - mean) < 1e-6
    assert abs(float(values["bb_upper"]) - (mean + 2 * std)) < 1e-6
    volumes = [float(c.volume) for c in btc[-20:]]
    assert abs(float(values["volume_ratio"]) - volumes[-1] / (sum(volumes) / 20)) < 1e-9
    assert {"macd", "macd_hist", "macd_signal", "atr", "bb_lower", "bb_middle"} <= set(values)


def test_gaps_and_zero_volume_mark_the_coin_stale_with_a_reason() -> None:
    dgb = load("DGB_USDT-5m.csv")
    gap_at = next(i for i, (a, b) in enumerate(itertools.pairwise(dgb))
                  if b.timestamp_ms - a.timestamp_ms > 300_000)
    result = compute_indicators(dgb[: gap_at + 50], "5m")
    assert result.stale and "gaps" in (result.stale_reason or "")
    zero = next(i for i, c in enumerate(dgb) if c.volume == 0 and i > 300)
    assert "zero volume" in (data_problem(dgb[zero - 300: zero + 1], "5m") or "")


def test_too_little_history_is_stale(btc: list[Candle]) -> None:
    result = compute_indicators(btc[:50])
    assert result.stale and result.stale_reason == "too little history: 50 candles, needs 214"


def test_macd_and_atr_match_pandas_ta_own_formulas(btc: list[Candle]) -> None:
    # pandas-ta with talib=False runs its own pandas implementation: independent of the TA-Lib calls.
    import pandas as pd
    import pandas_ta as ta

    frame = pd.DataFrame({k: [float(getattr(c, k)) for c in btc] for k in ("high", "low", "close")})
    values = compute_indicators(btc).values
    macd = ta.macd(frame["close"], 12, 26, 9, talib=False)
    assert abs(float(values["macd"]) - macd.iloc[-1, 0]) < 1e-6
    assert abs(float(values["macd_hist"]) - macd.iloc[-1, 1]) < 1e-6
    assert abs(float(values["macd_signal"]) - macd.iloc[-1, 2]) < 1e-6
    atr = ta.atr(frame["high"], frame["low"], frame["close"], 14, talib=False)
    assert abs(float(values["atr"]) - atr.iloc[-1]) < 1e-6


def test_a_window_slid_over_a_long_series_gives_what_the_updater_computes() -> None:
    # The backtest converts a year of candles once and slides; it must see exactly the 500-candle
    # view the market updater would have had at each candle, stale reasons included.
    candles = load("DGB_USDT-1h.csv")[:1200]
    arrays = CandleArrays.of(candles)
    seen = []
    for index in (0, 150, MIN_CANDLES - 1, 480, 520, 640, 1199):
        expected = compute_indicators(candles[:index + 1])
        assert indicators_at(arrays, index) == expected
        seen.append(expected.stale_reason)
    assert None in seen and any("gaps" in (r or "") for r in seen) and any("too little" in (r or "") for r in seen)
