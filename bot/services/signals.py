"""Market updater and signal monitor: indicators per watchlist coin, then a decision per coin.

One coin's bad data marks that coin stale with its reason and never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from bot.db.models import IndicatorSnapshot, SignalRecord, StrategyState, WatchlistEntry
from bot.domain.events import SignalChanged
from bot.domain.strategy import Decision, StrategyParams, TrackedState, Verdict, decide
from bot.exchange.base import Exchange
from bot.services.auto_orders import AutoOrderService
from bot.services.events import EventBus
from bot.services.indicators import compute_indicators

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

    async def update_market(self) -> dict[str, str | None]:
        """Indicators for every watchlist coin; returns symbol -> stale reason (None when fresh)."""
        outcome: dict[str, str | None] = {}
        for entry in await WatchlistEntry.all().order_by("symbol"):
            try:
                candles = await self.exchange.candles(entry.symbol, entry.timeframe, limit=500)
                result = compute_indicators(candles, entry.timeframe)
                reason = result.stale_reason
                values = {k: str(v) for k, v in result.values.items()}
                candle_time = _utc(result.candle_time_ms) if result.candle_time_ms else None
                values["close"] = str(result.close)
            except Exception as exc:        # unknown symbol, exchange error: this coin only
                log.warning("market data for %s failed: %s", entry.symbol, exc)
                reason, values, candle_time = f"no market data: {type(exc).__name__}: {exc}"[:250], {}, None
            await IndicatorSnapshot.create(symbol=entry.symbol, timeframe=entry.timeframe, candle_time=candle_time,
                                           values=values, stale=reason is not None, stale_reason=reason,
                                           computed_at=self.clock())
            outcome[entry.symbol] = reason
        return outcome

    async def monitor(self) -> dict[str, Verdict]:
        """A decision per coin from its latest fresh snapshot and the current price."""
        verdicts: dict[str, Verdict] = {}
        for entry in await WatchlistEntry.all().order_by("symbol"):
            snapshot = await IndicatorSnapshot.filter(symbol=entry.symbol).order_by("-computed_at", "-id").first()
            if snapshot is None or snapshot.stale:
                continue
            try:
                price = (await self.exchange.ticker(entry.symbol)).last
            except Exception as exc:
                log.warning("no price for %s: %s", entry.symbol, exc)
                continue
            if price is None:
                continue
            values = {k: Decimal(v) for k, v in snapshot.values.items() if k != "close"}
            stored = await StrategyState.get_or_none(symbol=entry.symbol)
            state = _load_state(stored.state if stored else {})
            verdict = decide(values, price, state, self.params)
            await SignalRecord.create(symbol=entry.symbol, decision=verdict.decision.value, price=price,
                                      reasons=list(verdict.reasons), indicators=snapshot.values,
                                      candle_time=snapshot.candle_time, decided_at=self.clock())
            await StrategyState.update_or_create(
                defaults={"state": _dump_state(verdict.state), "last_decision": verdict.decision.value},
                symbol=entry.symbol)
            if verdict.changed and entry.alert_enabled and not entry.trade_enabled:
                await self.events.publish(SignalChanged(symbol=entry.symbol, decision=verdict.decision.value,
                                                        price=price, reasons=verdict.reasons,
                                                        mode=self.exchange.mode))
            if (verdict.decision is Decision.BUY and verdict.changed and entry.trade_enabled
                    and self.auto_orders is not None):
                await self.auto_orders.consider(entry, price, self.clock())
            verdicts[entry.symbol] = verdict
        return verdicts


def _load_state(data: dict[str, str | None]) -> TrackedState:
    reference = data.get("reference_price")
    last = data.get("last_signal")
    return TrackedState(Decimal(reference) if reference else None, Decision(last) if last else None)


def _dump_state(state: TrackedState) -> dict[str, str | None]:
    return {"reference_price": None if state.reference_price is None else str(state.reference_price),
            "last_signal": None if state.last_signal is None else state.last_signal.value}
