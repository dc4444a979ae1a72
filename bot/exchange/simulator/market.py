"""The simulator's public market data: candles (re-timed to end now) and tickers from the engine, and
the bundled real candles it serves by default."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.domain.money import plain
from bot.exchange.base import Candle
from bot.exchange.marketdata import ReplayMarketData, timeframe_ms

BUNDLED = Path(__file__).resolve().parents[2] / "data" / "candles"

# The documented values and their legacy aliases (section 3); anything else is refused.
TIMEFRAMES = {"1m": "1m", "5m": "5m", "15m": "15m", "30m": "30m", "1h": "1h", "2h": "2h", "4h": "4h",
              "12h": "12h", "1D": "1d", "7D": "7d", "14D": "14d", "1M": "30d",
              "M1": "1m", "M5": "5m", "M15": "15m", "M30": "30m", "H1": "1h", "H2": "2h", "H4": "4h",
              "H12": "12h", "D1": "1d", "1d": "1d"}
HOUR_MS = 3_600_000


def to_ms(value: Any) -> int:
    """crypto.com takes ms or ns (and ccxt sometimes sends microseconds): normalise by magnitude."""
    number = int(Decimal(str(value)))
    if number >= 10**17:
        return number // 1_000_000
    if number >= 10**14:
        return number // 1_000
    return number


def to_ns(value: Any) -> int:
    number = int(Decimal(str(value)))
    if number >= 10**17:
        return number
    if number >= 10**14:
        return number * 1_000
    return number * 1_000_000


def retimed(candles: list[Candle], *, base_ms: int, end_ms: int) -> list[Candle]:
    """The same series shifted so its last candle closes at `end_ms`: old data that looks live."""
    if not candles:
        return []
    shift = end_ms - (candles[-1].timestamp_ms + base_ms)
    shift -= shift % base_ms
    return [Candle(c.timestamp_ms + shift, c.open, c.high, c.low, c.close, c.volume) for c in candles]


def aggregate(candles: list[Candle], step_ms: int) -> list[Candle]:
    out: list[Candle] = []
    for candle in candles:
        start = candle.timestamp_ms - candle.timestamp_ms % step_ms
        if out and out[-1].timestamp_ms == start:
            last = out[-1]
            out[-1] = Candle(start, last.open, max(last.high, candle.high), min(last.low, candle.low), candle.close,
                             last.volume + candle.volume)
        else:
            out.append(Candle(start, candle.open, candle.high, candle.low, candle.close, candle.volume))
    return out


class CandleBook:
    """Candles per symbol at one base timeframe; longer timeframes are aggregated from it."""

    def __init__(self, series: dict[str, list[Candle]] | None = None, base_timeframe: str = "1h") -> None:
        self.base_ms = timeframe_ms(base_timeframe)
        self.series = dict(series or {})

    def page(self, symbol: str, timeframe: str, *, count: int, start_ms: int | None,
             end_ms: int | None) -> list[Candle] | None:
        """Candles with start_ms <= t < end_ms, the newest `count`; None for an unknown timeframe."""
        canonical = TIMEFRAMES.get(timeframe)
        if canonical is None:
            return None
        step = timeframe_ms(canonical)
        candles = self.series.get(symbol, [])
        if step != self.base_ms:
            if step < self.base_ms or step % self.base_ms:
                return []
            candles = aggregate(candles, step)
        selected = [c for c in candles if (start_ms is None or c.timestamp_ms >= start_ms)
                    and (end_ms is None or c.timestamp_ms < end_ms)]
        return selected[-count:] if count > 0 else []

    def day_stats(self, symbol: str) -> tuple[Decimal, Decimal, Decimal] | None:
        """(high, low, base volume) over the last 24 base candles."""
        day = self.series.get(symbol, [])[-max(1, 86_400_000 // self.base_ms):]
        if not day:
            return None
        return max(c.high for c in day), min(c.low for c in day), sum((c.volume for c in day), Decimal(0))


def ticker_object(symbol: str, last: Decimal, tick: Decimal, stats: tuple[Decimal, Decimal, Decimal] | None,
                  now_ms: int) -> dict[str, Any]:
    high, low, volume = stats if stats is not None else (last, last, Decimal(0))
    high, low = max(high, last), min(low, last)
    return {"i": symbol, "h": plain(high), "l": plain(low), "a": plain(last), "v": plain(volume),
            "vv": plain(volume * last), "oi": "0", "c": "0", "b": plain(last - tick), "k": plain(last + tick),
            "t": now_ms}


def live_looking(feed: ReplayMarketData) -> dict[str, list[Candle]]:
    """Real 1h candles re-timed so each series' last candle closes now."""
    now_ms = time.time_ns() // 1_000_000
    return {s: retimed(c, base_ms=timeframe_ms("1h"), end_ms=now_ms) for s, c in feed.series.items()}


def bundled_candles(data_dir: Path = BUNDLED) -> dict[str, list[Candle]]:
    return live_looking(ReplayMarketData(data_dir, warmup=0))
