"""The watchlist: which coins the bot follows, trades and alerts on, with their settings."""

from __future__ import annotations

from typing import Any

from bot.db.models import WatchlistEntry
from bot.db.repositories.pagination import Ordering, Page, keyset_page

# The symbol is unique: it is its own tiebreaker.
WATCHLIST = Ordering("watchlist", "symbol", tiebreaker="symbol", descending=False)


class WatchlistRepository:
    async def all(self) -> list[WatchlistEntry]:
        rows: list[WatchlistEntry] = await WatchlistEntry.all().order_by("symbol")
        return rows

    async def get(self, symbol: str) -> WatchlistEntry | None:
        row: WatchlistEntry | None = await WatchlistEntry.get_or_none(symbol=symbol)
        return row

    async def flags(self) -> list[tuple[str, bool, bool]]:
        """(symbol, Trade, Alert) of every coin in symbol order, without building the rows."""
        rows = await WatchlistEntry.all().order_by("symbol").values_list("symbol", "trade_enabled", "alert_enabled")
        return [(str(symbol), bool(trade), bool(alert)) for symbol, trade, alert in rows]

    async def add(self, symbol: str, **columns: Any) -> WatchlistEntry:
        row: WatchlistEntry = await WatchlistEntry.create(symbol=symbol, **columns)
        return row

    async def remove(self, symbol: str) -> bool:
        deleted: int = await WatchlistEntry.filter(symbol=symbol).delete()
        return deleted > 0

    async def update(self, symbol: str, **columns: Any) -> WatchlistEntry | None:
        """Set some columns of one coin; None when the coin is not (or no longer) watched."""
        changed: int = await WatchlistEntry.filter(symbol=symbol).update(**columns)
        return await self.get(symbol) if changed else None

    async def page(self, *, cursor: str | None = None, limit: int | None = None) -> Page[WatchlistEntry]:
        """Coins in symbol order."""
        return await keyset_page(WatchlistEntry.all(), WATCHLIST, cursor=cursor, limit=limit)

    async def after(self, symbol: str, *, limit: int) -> tuple[list[WatchlistEntry], bool]:
        """Up to `limit` coins after `symbol` in symbol order ("" = from the first), and whether more
        follow. The symbol is the page's key, short enough for a button's callback data."""
        query = WatchlistEntry.filter(symbol__gt=symbol) if symbol else WatchlistEntry.all()
        rows: list[WatchlistEntry] = list(await query.order_by("symbol").limit(limit + 1))
        return rows[:limit], len(rows) > limit

    async def alert_counts(self) -> tuple[int, int]:
        """(coins on the watchlist, of which Alert=YES)."""
        return await WatchlistEntry.all().count(), await WatchlistEntry.filter(alert_enabled=True).count()

    async def set_alert(self, symbol: str, enabled: bool) -> bool:
        """Set the coin's Alert flag; False when the coin is not on the watchlist."""
        return bool(await WatchlistEntry.filter(symbol=symbol).update(alert_enabled=enabled))
