"""The watchlist: which coins the bot follows, trades and alerts on, with their settings."""

from __future__ import annotations

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

    async def page(self, *, cursor: str | None = None, limit: int | None = None) -> Page[WatchlistEntry]:
        """Coins in symbol order."""
        return await keyset_page(WatchlistEntry.all(), WATCHLIST, cursor=cursor, limit=limit)
