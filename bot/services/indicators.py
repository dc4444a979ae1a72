"""Market indicators with TA-Lib on numpy arrays, and the data checks that mark a coin stale with a reason.

Indicator values are analysis, not money: they are computed in float64 and handed to the domain
as Decimals of their repr, so comparisons with prices stay exact on the price side.

TA-Lib is what pandas-ta calls underneath when the `ta-lib` wheel is installed (same functions,
same parameters), so the values are the ones pandas-ta gave; calling it on plain arrays skips
pandas-ta's per-call DataFrame work, which was most of the market updater's time (DESIGN.md:
0.93 s against 15 ms for 300 coins). `CandleArrays` converts a coin's candles once, so the
backtest can slide a 500-candle window over a year of candles without converting again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import talib

from bot.exchange.base import Candle

MIN_CANDLES = 200 + 14      # EMA200 plus the RSI warm-up
WINDOW = 500                # candles the market updater asks for, and the indicators see
TIMEFRAME_MS = {"1m": 60_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000, "1h": 3_600_000,
                "4h": 14_400_000, "1d": 86_400_000}
NAMES = ("rsi", "ema10", "ema50", "ema200", "sma20", "macd", "macd_hist", "macd_signal", "atr",
         "bb_lower", "bb_middle", "bb_upper", "volume_ratio")


@dataclass(frozen=True)
class IndicatorSet:
    candle_time_ms: int
    close: Decimal
    values: dict[str, Decimal] = field(default_factory=dict)
    stale_reason: str | None = None

    @property
    def stale(self) -> bool:
        return self.stale_reason is not None


@dataclass(frozen=True)
class CandleArrays:
    """A coin's candles as float64 columns (and the Decimal closes, which stay money).

    No open column: no indicator reads it, and converting Decimals is most of the cost here.
    """
    timestamps: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    closes: tuple[Decimal, ...]

    @classmethod
    def of(cls, candles: Sequence[Candle]) -> CandleArrays:
        # One pass of float() per value: measured faster than np.fromiter or np.array on Decimals.
        columns = np.array([(float(c.high), float(c.low), float(c.close), float(c.volume)) for c in candles],
                           dtype=np.float64).reshape(-1, 4)
        return cls(np.array([c.timestamp_ms for c in candles], dtype=np.int64),
                   np.ascontiguousarray(columns[:, 0]), np.ascontiguousarray(columns[:, 1]),
                   np.ascontiguousarray(columns[:, 2]), np.ascontiguousarray(columns[:, 3]),
                   tuple(c.close for c in candles))

    def __len__(self) -> int:
        return len(self.timestamps)


def data_problem(candles: Sequence[Candle], timeframe: str) -> str | None:
    """Why these candles cannot be trusted for indicators, or None."""
    window = candles[-MIN_CANDLES:]
    return _problem(len(candles), np.fromiter((c.timestamp_ms for c in window), np.int64, len(window)),
                    np.fromiter((c.volume for c in window[-20:]), np.float64, min(20, len(window))), timeframe)


def _problem(count: int, timestamps: np.ndarray, recent_volume: np.ndarray, timeframe: str) -> str | None:
    """`timestamps`: the last MIN_CANDLES open times; `recent_volume`: the last 20 volumes."""
    if count < MIN_CANDLES:
        return f"too little history: {count} candles, needs {MIN_CANDLES}"
    step = TIMEFRAME_MS.get(timeframe)
    if step is not None:
        missing = int((np.diff(timestamps) // step - 1).sum())
        if missing > 0:
            return f"gaps: {missing} missing candles in the last {MIN_CANDLES}"
    if not recent_volume.any():
        return "zero volume over the last 20 candles"
    if recent_volume[-1] == 0:
        return "zero volume on the latest candle"
    return None


def _dec(value: float) -> Decimal | None:
    return None if math.isnan(value) or math.isinf(value) else Decimal(repr(float(value)))


def compute_indicators(candles: Sequence[Candle], timeframe: str = "1h") -> IndicatorSet:
    if not candles:
        return IndicatorSet(0, Decimal(0), {}, "no candles")
    return indicators_at(CandleArrays.of(candles[-WINDOW:]), len(candles[-WINDOW:]) - 1, timeframe,
                         history=len(candles))


def indicators_at(data: CandleArrays, index: int, timeframe: str = "1h", *, history: int | None = None) -> IndicatorSet:
    """The indicators the market updater would compute when candle `index` is the newest one:
    over the last WINDOW candles up to it. `history`: how many candles the coin has up to
    `index` (default `index + 1`), for the too-little-history check."""
    end = index + 1
    count = end if history is None else history
    start = max(0, end - WINDOW)
    problem = _problem(count, data.timestamps[max(0, end - MIN_CANDLES):end], data.volume[max(0, end - 20):end],
                       timeframe)
    time_ms, close_price = int(data.timestamps[index]), data.closes[index]
    if problem is not None:
        return IndicatorSet(time_ms, close_price, {}, problem)
    high, low, close, volume = (data.high[start:end], data.low[start:end], data.close[start:end],
                                data.volume[start:end])
    macd, macd_signal, macd_hist = talib.MACD(close, 12, 26, 9)
    bb_upper, bb_middle, bb_lower = talib.BBANDS(close, 20, 2.0, 2.0, talib.MA_Type.SMA)
    average_volume = volume[-20:].mean()
    raw = {
        "rsi": talib.RSI(close, 14)[-1],
        "ema10": talib.EMA(close, 10)[-1],
        "ema50": talib.EMA(close, 50)[-1],
        "ema200": talib.EMA(close, 200)[-1],
        "sma20": talib.SMA(close, 20)[-1],
        "macd": macd[-1], "macd_hist": macd_hist[-1], "macd_signal": macd_signal[-1],
        "atr": talib.ATR(high, low, close, 14)[-1],
        "bb_lower": bb_lower[-1], "bb_middle": bb_middle[-1], "bb_upper": bb_upper[-1],
        "volume_ratio": volume[-1] / average_volume if average_volume > 0 else math.nan,
    }
    values = {k: v for k, v in ((k, _dec(v)) for k, v in raw.items()) if v is not None}
    missing = sorted(set(raw) - set(values))
    reason = f"indicators undefined: {', '.join(missing)}" if missing else None
    return IndicatorSet(time_ms, close_price, values, reason)
