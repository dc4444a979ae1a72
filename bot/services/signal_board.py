"""The newest decision of every watched coin, as /signals (and the Mini App) shows it: BUY, SELL
(an exit) or WAIT with its price, indicators and reasons, whether the coin's data went stale since,
and for Trade=YES coins what became of the newest automatic buy (placed, or the rule that blocked it).

A page costs a handful of queries whatever the watchlist's size: the watchlist's flags and each
coin's newest decision (the order and the BUY filter) as bare values, then the whole rows, the
snapshots and the automatic-order decisions of the page's coins only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from bot.db.models import AutoOrderDecision, IndicatorSnapshot, SignalRecord
from bot.db.repositories import (
    AutoOrderDecisionRepository,
    IndicatorRepository,
    SignalRepository,
    WatchlistRepository,
)
from bot.domain.reasons import Reason

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
    detail: str                         # English, as stored
    price: Decimal | None
    decided_at: datetime
    why: Reason | None = None           # the refusal as key + values (None on rows from before they were kept)


@dataclass(frozen=True)
class CoinSignal:
    symbol: str
    trade: bool
    alert: bool
    decision: str | None                # BUY | SELL | WAIT; None: no decision yet
    price: Decimal | None = None
    decided_at: datetime | None = None
    indicators: dict[str, Decimal] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()       # English, as stored
    stale_reason: str | None = None     # the newest market data could not be used (after the decision)
    auto_order: AutoOrderNote | None = None
    explained: tuple[Reason, ...] = ()  # the reasons as keys + values (empty on rows from before they were kept)


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


def _explained(signal: SignalRecord) -> tuple[Reason, ...]:
    """All of a row's reasons as keys + values, or none (then its sentences are shown as stored)."""
    found = [Reason.from_stored(raw) for raw in signal.explained or ()]
    return tuple(r for r in found if r is not None) if found and None not in found else ()


class SignalBoard:
    def __init__(self, mode: str) -> None:
        self.watchlist = WatchlistRepository()
        self.signals = SignalRepository()
        self.snapshots = IndicatorRepository()
        self.auto_orders = AutoOrderDecisionRepository(mode)

    async def page(self, wanted: SignalFilter = SignalFilter.ALL, page: int = 0, size: int = 8) -> SignalBoardPage:
        coins = await self.watchlist.flags()
        decided = await self.signals.latest_decisions(symbol for symbol, _, _ in coins)
        chosen = {
            SignalFilter.ALL: coins,
            SignalFilter.BUY: [c for c in coins if decided.get(c[0]) == "BUY"],
            SignalFilter.TRADE: [c for c in coins if c[1]],
        }
        counts = {f: len(rows) for f, rows in chosen.items()}
        rows = sorted(chosen[wanted], key=lambda c: (DECISION_ORDER.get(decided.get(c[0]), 3), c[0]))
        pages = max(1, -(-len(rows) // size))
        page = min(max(page, 0), pages - 1)
        shown = rows[page * size:(page + 1) * size]
        # Whole rows (reasons, indicators) only for the page's coins.
        symbols = [symbol for symbol, _, _ in shown]
        latest = await self.signals.latest(symbols)
        snapshots = await self.snapshots.latest(symbols)
        traded = [symbol for symbol, trade, _ in shown if trade]
        decisions = await self.auto_orders.latest(traded) if traded else {}
        items = [self._coin(symbol, trade, alert, latest.get(symbol), snapshots.get(symbol), decisions.get(symbol))
                 for symbol, trade, alert in shown]
        return SignalBoardPage(wanted, items, page, pages, counts)

    @staticmethod
    def _coin(symbol: str, trade: bool, alert: bool, signal: SignalRecord | None,
              snapshot: IndicatorSnapshot | None, decision: AutoOrderDecision | None) -> CoinSignal:
        stale = None
        decided_at = _aware(signal.decided_at) if signal is not None else None
        if snapshot is not None and snapshot.stale:
            computed = _aware(snapshot.computed_at)
            if decided_at is None or (computed is not None and computed >= decided_at):
                stale = snapshot.stale_reason or "stale"
        note = None
        if decision is not None and trade:
            why = Reason.from_stored({"key": decision.rule, "values": decision.args or {}}) if decision.rule else None
            note = AutoOrderNote(bool(decision.allowed), decision.rule, decision.detail or "",
                                 Decimal(str(decision.price)) if decision.price is not None else None,
                                 _aware(decision.decided_at) or datetime.now(UTC), why)
        if signal is None:
            return CoinSignal(symbol, trade, alert, None, stale_reason=stale, auto_order=note)
        return CoinSignal(symbol, trade, alert, signal.decision,
                          Decimal(str(signal.price)), decided_at, _decimals(dict(signal.indicators or {})),
                          tuple(str(r) for r in signal.reasons or ()), stale, note, _explained(signal))
