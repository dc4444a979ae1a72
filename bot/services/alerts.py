"""What /alerts shows and changes: the coins' Alert flags with their last signal, and which kinds of
event notify a person (on / silent / off)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bot.db.repositories import SignalRecord, SignalRepository, UserRepository, WatchlistRepository
from bot.domain.notifications import KINDS, Kind, Level, level_of, next_level, with_level

PAGE_SIZE = 8


@dataclass(frozen=True)
class LastSignal:
    decision: str            # BUY | SELL
    price: Decimal
    at: datetime


@dataclass(frozen=True)
class CoinAlert:
    symbol: str
    alert_enabled: bool
    trade_enabled: bool
    last_signal: LastSignal | None


@dataclass(frozen=True)
class AlertsView:
    coins: list[CoinAlert]            # one page, in symbol order
    after: str                        # the page: coins after this symbol ("" = from the first)
    next_after: str | None            # the next page's `after`, None on the last page
    watched: int                      # coins on the watchlist
    alerted: int                      # of which Alert=YES
    levels: dict[Kind, Level]
    timezone: str


class AlertsService:
    def __init__(self, watchlist: WatchlistRepository | None = None, signals: SignalRepository | None = None,
                 users: UserRepository | None = None, *, default_timezone: str = "UTC",
                 page_size: int = PAGE_SIZE) -> None:
        self.watchlist = watchlist or WatchlistRepository()
        self.signals = signals or SignalRepository()
        self.users = users or UserRepository()
        self.default_timezone = default_timezone
        self.page_size = page_size

    async def view(self, telegram_id: int, *, after: str = "") -> AlertsView:
        coins, more = await self.watchlist.after(after, limit=self.page_size)
        last = await self.signals.last_alerts([c.symbol for c in coins if c.alert_enabled])
        watched, alerted = await self.watchlist.alert_counts()
        user = await self.users.get(telegram_id)
        stored = user.notification_levels if user is not None else {}
        return AlertsView(
            coins=[CoinAlert(c.symbol, c.alert_enabled, c.trade_enabled,
                             _last(last.get(c.symbol))) for c in coins],
            after=after, next_after=coins[-1].symbol if more and coins else None,
            watched=watched, alerted=alerted, levels={k: level_of(stored, k) for k in KINDS},
            timezone=(user.timezone if user is not None else None) or self.default_timezone)

    async def toggle_alert(self, symbol: str) -> bool | None:
        """Flip the coin's Alert flag; its new value, or None when the coin is not on the watchlist."""
        entry = await self.watchlist.get(symbol)
        if entry is None:
            return None
        await self.watchlist.set_alert(symbol, not entry.alert_enabled)
        return not entry.alert_enabled

    async def cycle_level(self, telegram_id: int, kind: Kind) -> Level:
        """on -> silent -> off -> on for one kind of event; the new level."""
        user = await self.users.get(telegram_id)
        stored = user.notification_levels if user is not None else {}
        level = next_level(level_of(stored, kind))
        await self.users.set_notification_levels(telegram_id, with_level(stored, kind, level))
        return level


def _last(record: SignalRecord | None) -> LastSignal | None:
    if record is None:
        return None
    return LastSignal(record.decision, Decimal(str(record.price)), record.decided_at)
