"""One coin's indicators for /analyze, from pandas-ta: the chart's lines (EMA50/200, Bollinger,
RSI, MACD) and the wider set on demand (ADX, Stochastic RSI, OBV, Supertrend, Ichimoku).

This is where pandas-ta belongs: one coin, once per candle, a DataFrame's cost is nothing here
(~20 ms). The 300-coin market loop stays on TA-Lib arrays (`bot.services.indicators`).
Called in a worker thread; pandas and pandas-ta are imported on first use, so the bot starts
without paying for them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from bot.exchange.base import Candle
from bot.services.charts import ChartSeries

MIN_CANDLES = 60        # MACD and Ichimoku's 52-candle span need this much; EMA200 is left out below 200


@dataclass(frozen=True)
class IndicatorFrame:
    values: dict[str, Decimal]        # the brief's: ema50, ema200, rsi, macd*, bb_*, atr, volume_ratio
    wider: dict[str, Decimal]         # adx, dmp, dmn, stochrsi_k/d, obv_slope, supertrend*, ichimoku_*, tenkan, kijun
    series: ChartSeries
    candle_count: int


def _last(column: Any, back: int = 1) -> Decimal | None:
    if column is None or len(column) < back:
        return None
    value = float(column.iloc[-back])
    return None if math.isnan(value) or math.isinf(value) else Decimal(repr(value))


def _column(frame: Any, prefix: str) -> Any:
    if frame is None:
        return None
    for name in frame.columns:
        if str(name).startswith(prefix):
            return frame[name]
    return None


def _array(column: Any, count: int, shown: int) -> np.ndarray:
    if column is None:
        return np.full(shown, np.nan)
    return column.to_numpy(dtype=np.float64)[count - shown:]


def compute_frame(candles: Sequence[Candle], shown: int = 120) -> IndicatorFrame:
    import pandas as pd
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import pandas_ta as ta

    frame = pd.DataFrame([(float(c.open), float(c.high), float(c.low), float(c.close), float(c.volume))
                          for c in candles], columns=["open", "high", "low", "close", "volume"])
    high, low, close, volume = frame["high"], frame["low"], frame["close"], frame["volume"]
    count = len(frame)
    ema50 = ta.ema(close, 50)
    ema200 = ta.ema(close, 200) if count >= 200 else None
    bands = ta.bbands(close, 20, 2.0)
    rsi = ta.rsi(close, 14)
    macd = ta.macd(close, 12, 26, 9)
    atr = ta.atr(high, low, close, 14)
    average_volume = float(volume.iloc[-20:].mean())
    macd_line, macd_signal, macd_hist = _column(macd, "MACD_"), _column(macd, "MACDs_"), _column(macd, "MACDh_")
    values = {
        "ema50": _last(ema50), "ema200": _last(ema200), "rsi": _last(rsi),
        "macd": _last(macd_line), "macd_signal": _last(macd_signal), "macd_hist": _last(macd_hist),
        "macd_hist_prev": _last(macd_hist, 2),
        "bb_lower": _last(_column(bands, "BBL_")), "bb_middle": _last(_column(bands, "BBM_")),
        "bb_upper": _last(_column(bands, "BBU_")), "atr": _last(atr),
        "volume_ratio": (Decimal(repr(float(volume.iloc[-1]) / average_volume)) if average_volume > 0 else None),
    }

    adx = ta.adx(high, low, close, 14)
    stoch = ta.stochrsi(close, 14, 14, 3, 3)
    obv = ta.obv(close, volume)
    supertrend = ta.supertrend(high, low, close, length=10, multiplier=3.0)
    ichimoku, _ = ta.ichimoku(high, low, close) or (None, None)
    obv_slope = None
    if obv is not None and count > 20:
        obv_slope = Decimal(repr(float(obv.iloc[-1] - obv.iloc[-20])))
    wider = {
        "adx": _last(_column(adx, "ADX_")), "dmp": _last(_column(adx, "DMP_")), "dmn": _last(_column(adx, "DMN_")),
        "stochrsi_k": _last(_column(stoch, "STOCHRSIk_")), "stochrsi_d": _last(_column(stoch, "STOCHRSId_")),
        "obv_slope": obv_slope,
        "supertrend": _last(_column(supertrend, "SUPERT_")),
        "supertrend_direction": _last(_column(supertrend, "SUPERTd_")),
        "ichimoku_a": _last(_column(ichimoku, "ISA_")), "ichimoku_b": _last(_column(ichimoku, "ISB_")),
        "tenkan": _last(_column(ichimoku, "ITS_")), "kijun": _last(_column(ichimoku, "IKS_")),
    }
    shown = min(shown, count)
    series = ChartSeries(
        times_ms=np.array([c.timestamp_ms for c in candles[count - shown:]], dtype=np.int64),
        open=frame["open"].to_numpy()[count - shown:], high=high.to_numpy()[count - shown:],
        low=low.to_numpy()[count - shown:], close=close.to_numpy()[count - shown:],
        ema50=_array(ema50, count, shown), ema200=_array(ema200, count, shown),
        bb_upper=_array(_column(bands, "BBU_"), count, shown), bb_lower=_array(_column(bands, "BBL_"), count, shown),
        rsi=_array(rsi, count, shown), macd=_array(macd_line, count, shown),
        macd_signal=_array(macd_signal, count, shown), macd_hist=_array(macd_hist, count, shown))
    return IndicatorFrame({k: v for k, v in values.items() if v is not None},
                          {k: v for k, v in wider.items() if v is not None}, series, count)
