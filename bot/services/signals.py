"""Market updater and signal monitor: indicators per watchlist coin, then a decision per coin.

One coin's bad data marks that coin stale with its reason and never stops the others.

Both cycles read and write in batches (one query for the snapshots, one for the states, one
tickers call for the prices, bulk inserts), so a cycle costs a handful of queries whatever the
size of the watchlist: per-coin round trips were most of a 300-coin cycle (bench/signals.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from bot.db.repositories import (
    IndicatorRepository,
    NewSignal,
    NewSnapshot,
    SignalRepository,
    TrackedRow,
    WatchlistEntry,
    WatchlistRepository,
)
from bot.domain.events import SignalChanged
from bot.domain.strategy import Decision, StrategyParams, TrackedState, Verdict, decide
from bot.exchange.base import Candle, Exchange
from bot.services.auto_orders import AutoOrderService
from bot.services.events import EventBus
from bot.services.indicators import WINDOW, compute_indicators

log = logging.getLogger(__name__)


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


@dataclass
class SignalService:
    exchange: Exchange
    events: EventBus
    params: StrategyParams
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    auto_orders: AutoOrderService | None = None
    # Candle requests in flight at once: a live watchlist of 300 coins fetched one by one spends
    # most of the cycle waiting on the network; the exchange adapter still applies its rate limit.
    fetch_concurrency: int = 8
    watchlist: WatchlistRepository = field(default_factory=WatchlistRepository)
    indicators: IndicatorRepository = field(default_factory=IndicatorRepository)
    signals: SignalRepository = field(default_factory=SignalRepository)

    async def update_market(self) -> dict[str, str | None]:
        """Indicators for every watchlist coin; returns symbol -> stale reason (None when fresh)."""
        entries = await self.watchlist.all()
        fetched = await self._fetch_candles(entries)
        outcome: dict[str, str | None] = {}
        rows = []
        for entry, candles in zip(entries, fetched, strict=True):
            try:
                if isinstance(candles, BaseException):
                    raise candles
                result = compute_indicators(candles, entry.timeframe)
                reason = result.stale_reason
                values = {k: str(v) for k, v in result.values.items()}
                candle_time = _utc(result.candle_time_ms) if result.candle_time_ms else None
                values["close"] = str(result.close)
            except Exception as exc:        # unknown symbol, exchange error, bad data: this coin only
                log.warning("market data for %s failed: %s", entry.symbol, exc)
                reason, values, candle_time = f"no market data: {type(exc).__name__}: {exc}"[:250], {}, None
            rows.append(NewSnapshot(symbol=entry.symbol, timeframe=entry.timeframe, candle_time=candle_time,
                                    values=values, stale_reason=reason, computed_at=self.clock()))
            outcome[entry.symbol] = reason
        await self.indicators.add_many(rows)
        return outcome

    async def _fetch_candles(self, entries: Sequence[WatchlistEntry]) -> list[list[Candle] | BaseException]:
        gate = asyncio.Semaphore(max(1, self.fetch_concurrency))

        async def one(entry: WatchlistEntry) -> list[Candle]:
            async with gate:
                return await self.exchange.candles(entry.symbol, entry.timeframe, limit=WINDOW)

        return await asyncio.gather(*(one(e) for e in entries), return_exceptions=True)

    async def monitor(self) -> dict[str, Verdict]:
        """A decision per coin from its latest fresh snapshot and the current price."""
        entries = await self.watchlist.all()
        snapshots = await self.indicators.latest([e.symbol for e in entries])
        fresh = [e for e in entries if e.symbol in snapshots and not snapshots[e.symbol].stale]
        prices = await self._prices([e.symbol for e in fresh])
        stored = await self.signals.tracked([e.symbol for e in fresh])
        verdicts: dict[str, Verdict] = {}
        records: list[NewSignal] = []
        states: dict[str, TrackedRow] = {}
        now: datetime | None = None
        for entry in fresh:
            price = prices.get(entry.symbol)
            if price is None:
                continue
            snapshot = snapshots[entry.symbol]
            values = {k: Decimal(v) for k, v in snapshot.values.items() if k != "close"}
            state_row = stored.get(entry.symbol)
            verdict = decide(values, price, _load_state(state_row.state if state_row else {}), self.params)
            now = self.clock()
            records.append(NewSignal(symbol=entry.symbol, decision=verdict.decision.value, price=price,
                                     reasons=list(verdict.reasons), indicators=snapshot.values,
                                     candle_time=snapshot.candle_time, decided_at=now,
                                     explained=verdict.explained))
            tracked = TrackedRow(_dump_state(verdict.state), verdict.decision.value)
            if tracked != state_row:
                # Unchanged states are not rewritten: most coins WAIT cycle after cycle.
                states[entry.symbol] = tracked
            verdicts[entry.symbol] = verdict
        # Decisions and states are stored before anyone hears of them, as one write.
        await self.signals.record(records, states, now or datetime.now(UTC))
        for entry in fresh:
            decided = verdicts.get(entry.symbol)
            if decided is None or not decided.changed:
                continue
            price = prices[entry.symbol]
            automatic = decided.decision is Decision.BUY and entry.trade_enabled and self.auto_orders is not None
            if entry.alert_enabled and not automatic:
                # A Trade=YES coin's BUY is told once, by what its automatic buy did (with the reasons).
                await self.events.publish(SignalChanged(
                    symbol=entry.symbol, decision=decided.decision.value, price=price, reasons=decided.reasons,
                    explained=decided.explained, indicators=tuple(sorted(snapshots[entry.symbol].values.items())),
                    mode=self.exchange.mode))
            if automatic and self.auto_orders is not None:
                try:
                    await self.auto_orders.consider(entry, price, self.clock(), explained=decided.explained)
                except Exception as exc:     # one coin's exchange trouble never costs the others their signal
                    log.warning("automatic order for %s not considered: %s", entry.symbol, exc)
                    await self.auto_orders.record_failure(entry.symbol, price, exc, explained=decided.explained)
        return verdicts

    async def _prices(self, symbols: list[str]) -> dict[str, Decimal]:
        """Last prices from one tickers call; a coin it does not list is asked for on its own."""
        if not symbols:
            return {}
        try:
            tickers = await self.exchange.tickers()
        except Exception as exc:
            log.warning("tickers failed, asking coin by coin: %s", exc)
            tickers = {}
        prices: dict[str, Decimal] = {}
        for symbol in symbols:
            ticker = tickers.get(symbol)
            if ticker is None:
                try:
                    ticker = await self.exchange.ticker(symbol)
                except Exception as exc:
                    log.warning("no price for %s: %s", symbol, exc)
                    continue
            if ticker.last is not None:
                prices[symbol] = ticker.last
        return prices


def _load_state(data: dict[str, str | None]) -> TrackedState:
    reference = data.get("reference_price")
    last = data.get("last_signal")
    return TrackedState(Decimal(reference) if reference else None, Decision(last) if last else None)


def _dump_state(state: TrackedState) -> dict[str, str | None]:
    return {"reference_price": None if state.reference_price is None else str(state.reference_price),
            "last_signal": None if state.last_signal is None else state.last_signal.value}
