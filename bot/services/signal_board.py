"""The newest decision of every watched coin, as /signals (and the Mini App) shows it: BUY, SELL
(an exit) or WAIT with its price, indicators and reasons, whether the coin's data went stale since,
and for Trade=YES coins what became of the newest automatic buy (placed, or the rule that blocked it).

A page costs three queries whatever the watchlist's size: the watchlist, the newest decision per
coin (for the order and the BUY filter), then snapshots and automatic-order decisions of the
page's coins only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from bot.db.models import AutoOrderDecision, IndicatorSnapshot, SignalRecord, WatchlistEntry
from bot.db.repositories import (
    AutoOrderDecisionRepository,
    IndicatorRepository,
    SignalRepository,
    WatchlistRepository,
)

# Actionable decisions first; coins with no decision yet last.
DECISION_ORDER = {"BUY": 0, "SELL": 1, "WAIT": 2, None: 3}


class SignalFilter(StrEnum):
    ALL = "all"
    BUY = "buy"
    TRADE = "trade"


@dataclass(frozen=True)
class AutoOrderNote:
    """The newest automatic-buy decision of a Trade=YES coin."""
    allowed: bool
    rule: str | None
    detail: str
    price: Decimal | None
    decided_at: datetime


@dataclass(frozen=True)
class CoinSignal:
    symbol: str
    trade: bool
    alert: bool
    decision: str | None                # BUY | SELL | WAIT; None: no decision yet
    price: Decimal | None = None
    decided_at: datetime | None = None
    indicators: dict[str, Decimal] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    stale_reason: str | None = None     # the newest market data could not be used (after the decision)
    auto_order: AutoOrderNote | None = None


@dataclass(frozen=True)
class SignalBoardPage:
    filter: SignalFilter
    items: list[CoinSignal]
    page: int
    pages: int
    counts: dict[SignalFilter, int]

    @property
    def total(self) -> int:
        return self.counts[self.filter]


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _decimals(values: dict[str, str]) -> dict[str, Decimal]:
    out = {}
    for name, raw in values.items():
        try:
            out[name] = Decimal(str(raw))
        except InvalidOperation:
            continue
    return out


class SignalBoard:
    def __init__(self, mode: str) -> None:
        self.watchlist = WatchlistRepository()
        self.signals = SignalRepository()
        self.snapshots = IndicatorRepository()
        self.auto_orders = AutoOrderDecisionRepository(mode)

    async def page(self, wanted: SignalFilter = SignalFilter.ALL, page: int = 0, size: int = 8) -> SignalBoardPage:
        entries = await self.watchlist.all()
        latest = await self.signals.latest(e.symbol for e in entries)
        chosen = {
            SignalFilter.ALL: entries,
            SignalFilter.BUY: [e for e in entries if e.symbol in latest and latest[e.symbol].decision == "BUY"],
            SignalFilter.TRADE: [e for e in entries if e.trade_enabled],
        }
        counts = {f: len(rows) for f, rows in chosen.items()}
        rows = sorted(chosen[wanted], key=lambda e: (
            DECISION_ORDER.get(latest[e.symbol].decision if e.symbol in latest else None, 3), e.symbol))
        pages = max(1, -(-len(rows) // size))
        page = min(max(page, 0), pages - 1)
        shown = rows[page * size:(page + 1) * size]
        symbols = [e.symbol for e in shown]
        snapshots = await self.snapshots.latest(symbols)
        traded = [e.symbol for e in shown if e.trade_enabled]
        decisions = await self.auto_orders.latest(traded) if traded else {}
        items = [self._coin(e, latest.get(e.symbol), snapshots.get(e.symbol), decisions.get(e.symbol))
                 for e in shown]
        return SignalBoardPage(wanted, items, page, pages, counts)

    @staticmethod
    def _coin(entry: WatchlistEntry, signal: SignalRecord | None, snapshot: IndicatorSnapshot | None,
              decision: AutoOrderDecision | None) -> CoinSignal:
        stale = None
        decided_at = _aware(signal.decided_at) if signal is not None else None
        if snapshot is not None and snapshot.stale:
            computed = _aware(snapshot.computed_at)
            if decided_at is None or (computed is not None and computed >= decided_at):
                stale = snapshot.stale_reason or "stale"
        note = None
        if decision is not None and entry.trade_enabled:
            note = AutoOrderNote(bool(decision.allowed), decision.rule, decision.detail or "",
                                 Decimal(str(decision.price)) if decision.price is not None else None,
                                 _aware(decision.decided_at) or datetime.now(UTC))
        if signal is None:
            return CoinSignal(entry.symbol, bool(entry.trade_enabled), bool(entry.alert_enabled), None,
                              stale_reason=stale, auto_order=note)
        return CoinSignal(entry.symbol, bool(entry.trade_enabled), bool(entry.alert_enabled), signal.decision,
                          Decimal(str(signal.price)), decided_at, _decimals(dict(signal.indicators or {})),
                          tuple(str(r) for r in signal.reasons or ()), stale, note)
