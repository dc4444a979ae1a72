"""Replayed candle files (`<BASE>_<QUOTE>-<tf>.csv`) as the paper exchange's market data."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from bot.domain.instrument import Instrument
from bot.exchange.base import Candle


def load_candles(path: Path) -> list[Candle]:
    with path.open() as handle:
        return [Candle(int(row["timestamp_ms"]), Decimal(row["open"]), Decimal(row["high"]), Decimal(row["low"]),
                       Decimal(row["close"]), Decimal(row["volume"])) for row in csv.DictReader(handle)]


def instrument_for(symbol: str, candles: list[Candle]) -> Instrument:
    """Tick sizes from the data: the finest price decimals seen; quantities sized to the price."""
    decimals = max((-c.close.as_tuple().exponent for c in candles[:500]), default=2)  # type: ignore[operator]
    price_tick = Decimal(1).scaleb(-max(int(decimals), 0))
    last = candles[-1].close if candles else Decimal(1)
    qty_tick = Decimal("0.00001") if last >= 1000 else Decimal("0.001") if last >= 1 else Decimal(1)
    base, quote = symbol.split("_", 1)
    return Instrument(symbol, base, quote, price_tick, qty_tick, min_notional=Decimal(1))


class ReplayMarketData:
    """Candles per symbol for one timeframe; `cursor` is the index of the current (latest visible) candle."""

    def __init__(self, directory: Path, timeframe: str = "1h", warmup: int = 300) -> None:
        self.directory = directory
        self.timeframe = timeframe
        self.series: dict[str, list[Candle]] = {}
        for path in sorted(directory.glob(f"*-{timeframe}.csv")):
            self.series[path.name.rsplit("-", 1)[0]] = load_candles(path)
        if not self.series:
            raise FileNotFoundError(f"no *-{timeframe}.csv candle files in {directory}")
        self.cursor = {symbol: min(warmup, len(c) - 1) for symbol, c in self.series.items()}

    def current(self, symbol: str) -> Candle:
        return self.series[symbol][self.cursor[symbol]]

    def visible(self, symbol: str) -> list[Candle]:
        return self.series[symbol][: self.cursor[symbol] + 1]

    def advance(self, symbol: str) -> Candle | None:
        """Next candle (wrapping to the start when the file ends), or None for an unknown symbol."""
        if symbol not in self.series:
            return None
        series = self.series[symbol]
        self.cursor[symbol] = self.cursor[symbol] + 1 if self.cursor[symbol] + 1 < len(series) else 0
        return series[self.cursor[symbol]]
