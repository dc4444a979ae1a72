"""Market indicators with pandas-ta, and the data checks that mark a coin stale with a reason.

Indicator values are analysis, not money: they are computed in float64 and handed to the domain
as Decimals of their repr, so comparisons with prices stay exact on the price side.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd
import pandas_ta as ta

from bot.exchange.base import Candle

MIN_CANDLES = 200 + 14      # EMA200 plus the RSI warm-up
TIMEFRAME_MS = {"1m": 60_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000, "1h": 3_600_000,
                "4h": 14_400_000, "1d": 86_400_000}


@dataclass(frozen=True)
class IndicatorSet:
    candle_time_ms: int
    close: Decimal
    values: dict[str, Decimal] = field(default_factory=dict)
    stale_reason: str | None = None

    @property
    def stale(self) -> bool:
        return self.stale_reason is not None


def data_problem(candles: Sequence[Candle], timeframe: str) -> str | None:
    """Why these candles cannot be trusted for indicators, or None."""
    if len(candles) < MIN_CANDLES:
        return f"too little history: {len(candles)} candles, needs {MIN_CANDLES}"
    step = TIMEFRAME_MS.get(timeframe)
    window = candles[-MIN_CANDLES:]
    if step is not None:
        missing = sum((b.timestamp_ms - a.timestamp_ms) // step - 1 for a, b in itertools.pairwise(window))
        if missing > 0:
            return f"gaps: {missing} missing candles in the last {MIN_CANDLES}"
    recent = window[-20:]
    if all(c.volume == 0 for c in recent):
        return "zero volume over the last 20 candles"
    if window[-1].volume == 0:
        return "zero volume on the latest candle"
    return None


def _frame(candles: Sequence[Candle]) -> pd.DataFrame:
    return pd.DataFrame({"open": [float(c.open) for c in candles], "high": [float(c.high) for c in candles],
                         "low": [float(c.low) for c in candles], "close": [float(c.close) for c in candles],
                         "volume": [float(c.volume) for c in candles]})


def _dec(value: float) -> Decimal | None:
    return None if value is None or math.isnan(value) or math.isinf(value) else Decimal(repr(float(value)))


def compute_indicators(candles: Sequence[Candle], timeframe: str = "1h") -> IndicatorSet:
    if not candles:
        return IndicatorSet(0, Decimal(0), {}, "no candles")
    last = candles[-1]
    problem = data_problem(candles, timeframe)
    if problem is not None:
        return IndicatorSet(last.timestamp_ms, last.close, {}, problem)
    df = _frame(candles[-500:])
    close, volume = df["close"], df["volume"]
    macd = ta.macd(close, 12, 26, 9)
    bands = ta.bbands(close, 20, 2)
    raw = {
        "rsi": ta.rsi(close, 14).iloc[-1],
        "ema10": ta.ema(close, 10).iloc[-1],
        "ema50": ta.ema(close, 50).iloc[-1],
        "ema200": ta.ema(close, 200).iloc[-1],
        "sma20": ta.sma(close, 20).iloc[-1],
        "macd": macd.iloc[-1, 0], "macd_hist": macd.iloc[-1, 1], "macd_signal": macd.iloc[-1, 2],
        "atr": ta.atr(df["high"], df["low"], close, 14).iloc[-1],
        "bb_lower": bands.iloc[-1, 0], "bb_middle": bands.iloc[-1, 1], "bb_upper": bands.iloc[-1, 2],
        "volume_ratio": volume.iloc[-1] / volume.tail(20).mean() if volume.tail(20).mean() > 0 else float("nan"),
    }
    values = {k: v for k, v in ((k, _dec(v)) for k, v in raw.items()) if v is not None}
    missing = sorted(set(raw) - set(values))
    reason = f"indicators undefined: {', '.join(missing)}" if missing else None
    return IndicatorSet(last.timestamp_ms, last.close, values, reason)
