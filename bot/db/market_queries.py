"""Queries behind the market views (/watchlist, /signals, /analyze, /settings and the Mini App's
watchlist): the watchlist's rows, the newest decision per coin, the user's settings.

"The newest row per coin" costs two queries whatever the watchlist's size: a correlated subquery
picks each coin's highest id (rows are only ever appended, so the highest id is the newest) riding
the symbol index, instead of a GROUP BY over the whole, ever-growing table; then the rows by id.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from bot.db.models import AutoOrderDecision, IndicatorSnapshot, OrderRecord, SignalRecord, User, WatchlistEntry

OPEN_ORDER_STATUSES = ("NEW", "PENDING", "ACTIVE")


class WatchlistRepository:
    async def all(self) -> list[WatchlistEntry]:
        rows: list[WatchlistEntry] = await WatchlistEntry.all().order_by("symbol")
        return rows

    async def get(self, symbol: str) -> WatchlistEntry | None:
        row: WatchlistEntry | None = await WatchlistEntry.get_or_none(symbol=symbol)
        return row

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


class MarketViewRepository:
    """The newest signal, indicator snapshot and automatic-order decision of each coin."""

    async def latest_signals(self, symbols: Iterable[str]) -> dict[str, SignalRecord]:
        return {r.symbol: r for r in await _newest(SignalRecord, "signals", symbols)}

    async def latest_snapshots(self, symbols: Iterable[str]) -> dict[str, IndicatorSnapshot]:
        return {r.symbol: r for r in await _newest(IndicatorSnapshot, "indicator_snapshots", symbols)}

    async def latest_auto_decisions(self, symbols: Iterable[str], mode: str) -> dict[str, AutoOrderDecision]:
        rows = await _newest(AutoOrderDecision, "auto_order_decisions", symbols, mode=mode)
        return {r.symbol: r for r in rows}

    async def open_orders(self, symbol: str, mode: str, account: str = "main") -> list[OrderRecord]:
        rows: list[OrderRecord] = await OrderRecord.filter(
            mode=mode, account=account, symbol=symbol, status__in=OPEN_ORDER_STATUSES).order_by("id")
        return rows


async def _newest(model: Any, table: str, symbols: Iterable[str], *, mode: str | None = None) -> list[Any]:
    wanted = sorted(set(symbols))
    if not wanted:
        return []
    connection = model._meta.db
    # Parameters in the connection's own style: `?` for SQLite, `$n` for asyncpg.
    numbered = connection.capabilities.dialect == "postgres"
    ids: list[int] = []
    # SQLite allows at most 500 terms in a compound SELECT (the UNION ALL below).
    for start in range(0, len(wanted), 500):
        # The mode's mark comes first in the statement, so it comes first in `values` (SQLite's `?`
        # are taken in the order they appear).
        values: list[str] = [*([mode] if mode is not None else []), *wanted[start:start + 500]]
        first = 1 if mode is None else 2

        def mark(position: int, numbered: bool = numbered) -> str:
            return f"${position}" if numbered else "?"

        mode_filter = f" AND x.mode = {mark(1)}" if mode is not None else ""
        symbols_table = " UNION ALL ".join(f"SELECT CAST({mark(p)} AS VARCHAR(32)) AS symbol"
                                           for p in range(first, len(values) + 1))
        _, rows = await connection.execute_query(
            f"SELECT (SELECT MAX(x.id) FROM {table} x WHERE x.symbol = s.symbol{mode_filter}) AS newest "
            f"FROM ({symbols_table}) s", values)
        ids += [row["newest"] for row in rows if row["newest"] is not None]
    return list(await model.filter(id__in=ids)) if ids else []


class UserSettingsRepository:
    COLUMNS = frozenset({"language", "timezone", "daily_alert_time", "default_stop_loss_percent",
                         "default_take_profit_percent"})

    async def get(self, telegram_id: int) -> User | None:
        row: User | None = await User.get_or_none(telegram_id=telegram_id)
        return row

    async def update(self, telegram_id: int, **columns: str | Decimal | None) -> User:
        unknown = set(columns) - self.COLUMNS
        if unknown:
            raise ValueError(f"not a user setting: {', '.join(sorted(unknown))}")
        row, _ = await User.get_or_create(telegram_id=telegram_id)
        for name, value in columns.items():
            setattr(row, name, value)
        await row.save(update_fields=list(columns))
        return row
