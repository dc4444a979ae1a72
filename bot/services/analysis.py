"""/analyze SYMBOL (and the Mini App's chart): a coin's analysis in words, its chart, and the wider
indicator set, for any listed instrument (watched or not).

Candles come from the exchange on each request (that is how the newest candle is known); the
indicators are computed and the chart drawn in a worker thread, off the event loop, and both are
cached per symbol and newest candle (its open time and close), so asking again during the same
candle, or a second person asking, costs one candles call and no computing or drawing.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from bot.db.models import OrderRecord
from bot.db.repositories import OrderRepository, SignalRepository
from bot.domain.input_rules import Invalid
from bot.domain.market_reading import Finding, read_brief, read_wider
from bot.domain.money import plain
from bot.exchange.base import Exchange
from bot.services.analysis_indicators import MIN_CANDLES, IndicatorFrame, compute_frame
from bot.services.charts import ChartInput, ChartLevel, level_label, png_size, render_png
from bot.services.indicators import TIMEFRAME_MS, WINDOW
from bot.services.watchlist import WatchlistService

log = logging.getLogger(__name__)
DAY_MS = 86_400_000
FrameKey = tuple[str, str, int, str]


@dataclass(frozen=True)
class Level:
    """An open order's price on this coin: what the chart draws as a line."""
    kind: str                    # buy | sell | stop_loss | take_profit
    price: Decimal
    quantity: Decimal


@dataclass(frozen=True)
class Analysis:
    symbol: str
    base: str
    quote: str
    timeframe: str
    candle_time: datetime        # the newest candle's open time
    price: Decimal               # its close
    change_percent: Decimal | None   # over the last day's candles
    brief: tuple[Finding, ...]
    wider: tuple[Finding, ...]
    levels: tuple[Level, ...]
    signal: str | None           # the newest decision, when the coin is watched
    signal_at: datetime | None
    candle_count: int
    frame_key: FrameKey


@dataclass(frozen=True)
class ChartImage:
    png: bytes
    width: int
    height: int


def levels_of(rows: list[OrderRecord]) -> tuple[Level, ...]:
    out = []
    for row in rows:
        role, side = row.role, row.side
        kind = role if role in ("stop_loss", "take_profit") else ("buy" if side == "BUY" else "sell")
        price = row.trigger_price if kind == "stop_loss" and row.trigger_price is not None else row.price
        price = price if price is not None else row.trigger_price
        if price is None:
            continue
        left = Decimal(str(row.quantity)) - Decimal(str(row.filled_quantity or 0))
        out.append(Level(kind, Decimal(str(price)), left))
    return tuple(sorted(out, key=lambda level: level.price, reverse=True))


class AnalysisService:
    def __init__(self, exchange: Exchange, watchlist: WatchlistService, orders: OrderRepository,
                 signals: SignalRepository | None = None, *, timeframe: str = "1h", history: int = WINDOW,
                 shown: int = 120, cache_size: int = 32) -> None:
        self.exchange = exchange
        self.watchlist = watchlist
        self.orders = orders
        self.signals = signals or SignalRepository()
        self.timeframe = timeframe
        self.history = history
        self.shown = shown
        self.cache_size = cache_size
        self._frames: OrderedDict[FrameKey, IndicatorFrame] = OrderedDict()
        self._charts: OrderedDict[tuple[FrameKey, tuple[Level, ...]], ChartImage] = OrderedDict()

    async def analyze(self, text: str) -> Analysis | Invalid:
        """The analysis of the instrument `text` names, or why there is none (unknown symbol, with
        suggestions; too little history)."""
        found = await self.watchlist.lookup(text)
        if found.symbol is None:
            return Invalid.of("unknown_symbol", field="symbol", suggestions=found.suggestions,
                              text=text.strip()[:32] or "?")
        symbol = found.symbol
        candles = await self.exchange.candles(symbol, self.timeframe, limit=self.history)
        if len(candles) < MIN_CANDLES:
            return Invalid.of("not_enough_history", field="symbol", symbol=symbol, count=len(candles),
                              needed=MIN_CANDLES)
        newest = candles[-1]
        key: FrameKey = (symbol, self.timeframe, newest.timestamp_ms, plain(newest.close))
        frame = self._frames.get(key)
        if frame is None:
            frame = await asyncio.to_thread(compute_frame, candles, self.shown)
            _remember(self._frames, key, frame, self.cache_size)
        else:
            self._frames.move_to_end(key)
        price = newest.close
        per_day = max(1, DAY_MS // TIMEFRAME_MS.get(self.timeframe, DAY_MS))
        change = None
        if len(candles) > per_day and candles[-1 - per_day].close > 0:
            before = candles[-1 - per_day].close
            change = ((price - before) / before * 100).quantize(Decimal("0.01"))
        levels = levels_of(await self.orders.open_rows(symbol))
        signal = (await self.signals.latest([symbol])).get(symbol)
        instrument = (await self.watchlist.instruments()).get(symbol)
        base, _, quote = symbol.partition("_")
        if instrument is not None:
            base, quote = instrument.base, instrument.quote
        return Analysis(symbol=symbol, base=base, quote=quote, timeframe=self.timeframe,
                        candle_time=datetime.fromtimestamp(newest.timestamp_ms / 1000, UTC), price=price,
                        change_percent=change, brief=read_brief(price, frame.values),
                        wider=read_wider(price, frame.wider), levels=levels,
                        signal=signal.decision if signal is not None else None,
                        signal_at=signal.decided_at if signal is not None else None,
                        candle_count=frame.candle_count, frame_key=key)

    async def chart(self, analysis: Analysis) -> ChartImage:
        """The analysis's chart (drawn once per candle and set of order lines)."""
        key = (analysis.frame_key, analysis.levels)
        cached = self._charts.get(key)
        if cached is not None:
            self._charts.move_to_end(key)
            return cached
        frame = self._frames.get(analysis.frame_key)
        if frame is None:           # evicted meanwhile: analyse again
            again = await self.analyze(analysis.symbol)
            if isinstance(again, Invalid):
                raise LookupError(again.text)
            return await self.chart(again)
        title = f"{analysis.symbol} · {analysis.timeframe} · {plain(analysis.price)} {analysis.quote} · " \
                f"{analysis.candle_time:%Y-%m-%d %H:%M} UTC"
        chart = ChartInput(title, frame.series, tuple(
            ChartLevel(level.kind, float(level.price), level_label(level.kind, plain(level.price)))
            for level in analysis.levels))
        png = await asyncio.to_thread(render_png, chart)
        width, height = png_size(png)
        image = ChartImage(png, width, height)
        _remember(self._charts, key, image, self.cache_size)
        return image

    async def chart_for(self, text: str) -> ChartImage | Invalid:
        """The chart alone (the Mini App's GET /api/candles/{symbol})."""
        analysis = await self.analyze(text)
        if isinstance(analysis, Invalid):
            return analysis
        return await self.chart(analysis)


def _remember[K, V](cache: OrderedDict[K, V], key: K, value: V, size: int) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > size:
        cache.popitem(last=False)
