"""Indicator snapshots, signal decisions and the strategy's tracked state per coin.

The market and signal cycles write in batches (a few queries whatever the watchlist's size); the
views page through decisions newest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from tortoise.functions import Max
from tortoise.transactions import in_transaction

from bot.db.models import IndicatorSnapshot, SignalRecord, StrategyState
from bot.db.repositories.newest import newest_ids, newest_per_symbol
from bot.db.repositories.pagination import Ordering, Page, keyset_page
from bot.domain.reasons import Reason

SIGNALS = Ordering("signals", "decided_at")


@dataclass(frozen=True)
class NewSnapshot:
    symbol: str
    timeframe: str
    candle_time: datetime | None
    values: dict[str, str]
    stale_reason: str | None
    computed_at: datetime


@dataclass(frozen=True)
class NewSignal:
    symbol: str
    decision: str
    price: Decimal
    reasons: list[str]
    indicators: dict[str, str]
    candle_time: datetime | None
    decided_at: datetime
    explained: tuple[Reason, ...] = ()


@dataclass(frozen=True)
class TrackedRow:
    """The strategy's stored state for one coin (JSON as stored) and its last decision."""
    state: dict[str, Any]
    last_decision: str | None


class IndicatorRepository:
    async def add_many(self, snapshots: Sequence[NewSnapshot]) -> None:
        await IndicatorSnapshot.bulk_create(
            [IndicatorSnapshot(symbol=s.symbol, timeframe=s.timeframe, candle_time=s.candle_time, values=s.values,
                               stale=s.stale_reason is not None, stale_reason=s.stale_reason,
                               computed_at=s.computed_at) for s in snapshots], batch_size=500)

    async def latest(self, symbols: Iterable[str]) -> dict[str, IndicatorSnapshot]:
        """The newest snapshot of each coin, in two queries. Snapshots are only ever appended, so
        the newest is the one with the highest id."""
        wanted = list(symbols)
        if not wanted:
            return {}
        newest = await IndicatorSnapshot.filter(symbol__in=wanted).annotate(newest=Max("id")) \
            .group_by("symbol").values_list("newest", flat=True)
        return {s.symbol: s for s in await IndicatorSnapshot.filter(id__in=list(newest))}


class SignalRepository:
    async def latest(self, symbols: Iterable[str]) -> dict[str, SignalRecord]:
        """The newest decision of each coin (coins never decided on are left out)."""
        return {r.symbol: r for r in await newest_per_symbol(SignalRecord, symbols)}

    async def latest_decisions(self, symbols: Iterable[str]) -> dict[str, str]:
        """symbol -> its newest decision (BUY / SELL / WAIT) alone: no reasons or indicators to
        decode, for ordering and filtering a whole watchlist."""
        ids = await newest_ids(SignalRecord, symbols)
        rows = await SignalRecord.filter(id__in=ids).values_list("symbol", "decision") if ids else []
        return {str(symbol): str(decision) for symbol, decision in rows}

    async def tracked(self, symbols: Iterable[str]) -> dict[str, TrackedRow]:
        rows = await StrategyState.filter(symbol__in=list(symbols))
        return {r.symbol: TrackedRow(dict(r.state), r.last_decision) for r in rows}

    async def record(self, signals: Sequence[NewSignal], states: Mapping[str, TrackedRow],
                     now: datetime) -> None:
        """Store the decisions and the coins' new states as one write. `states` holds only the
        coins whose state changed or is new: most coins WAIT cycle after cycle, unchanged."""
        async with in_transaction():
            await SignalRecord.bulk_create(
                [SignalRecord(symbol=s.symbol, decision=s.decision, price=s.price, reasons=s.reasons,
                              explained=[r.stored() for r in s.explained], indicators=s.indicators,
                              candle_time=s.candle_time, decided_at=s.decided_at)
                 for s in signals], batch_size=500)
            if not states:
                return
            existing = {r.symbol: r for r in await StrategyState.filter(symbol__in=list(states))}
            created, changed = [], []
            for symbol, tracked in states.items():
                row = existing.get(symbol)
                if row is None:
                    created.append(StrategyState(symbol=symbol, state=tracked.state,
                                                 last_decision=tracked.last_decision))
                else:
                    row.state, row.last_decision, row.updated_at = tracked.state, tracked.last_decision, now
                    changed.append(row)
            await StrategyState.bulk_create(created, batch_size=500)
            if changed:
                await StrategyState.bulk_update(changed, fields=["state", "last_decision", "updated_at"],
                                                batch_size=500)

    async def last_alerts(self, symbols: Iterable[str]) -> dict[str, SignalRecord]:
        """Each coin's newest BUY or SELL decision (what an alert tells), in two queries."""
        wanted = list(symbols)
        if not wanted:
            return {}
        newest = await SignalRecord.filter(symbol__in=wanted, decision__in=["BUY", "SELL"]) \
            .annotate(newest=Max("id")).group_by("symbol").values_list("newest", flat=True)
        return {s.symbol: s for s in await SignalRecord.filter(id__in=list(newest))}

    async def page(self, *, symbol: str | None = None, decision: str | None = None,
                   since: datetime | None = None, until: datetime | None = None,
                   cursor: str | None = None, limit: int | None = None) -> Page[SignalRecord]:
        """Decisions newest first, optionally of one coin / one decision / in [since, until)."""
        query = SignalRecord.all()
        if symbol:
            query = query.filter(symbol=symbol)
        if decision:
            query = query.filter(decision=decision)
        if since is not None:
            query = query.filter(decided_at__gte=since)
        if until is not None:
            query = query.filter(decided_at__lt=until)
        return await keyset_page(query, SIGNALS, cursor=cursor, limit=limit)
