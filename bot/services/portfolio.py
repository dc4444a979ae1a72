"""The portfolio as the last sync saw it, and the holdings no open sell protects."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bot.db.repositories import (
    BalanceRepository,
    OrderRecord,
    OrderRepository,
    PortfolioRepository,
    group_id_of,
)
from bot.domain.money import ZERO
from bot.domain.portfolio import UnprotectedPosition, unprotected_positions
from bot.domain.protection import OpenSell, covered_quantity


@dataclass(frozen=True)
class PortfolioView:
    taken_at: datetime
    total_usd: Decimal
    positions: list[dict[str, str | None]]     # [{asset, quantity, price|None, usd_value|None}]
    unpriced_assets: list[str]


def base_asset(symbol: str) -> str:
    return symbol.split("_", 1)[0]


def covered_by_asset(sells: Iterable[OrderRecord]) -> dict[str, Decimal]:
    """Open sells per base asset; the two legs of one group lock the position once."""
    per_asset: dict[str, list[OpenSell]] = {}
    for row in sells:
        per_asset.setdefault(base_asset(row.symbol), []).append(
            OpenSell(row.exchange_order_id, row.quantity - row.filled_quantity, group_id_of(row) or row.list_id))
    return {asset: covered_quantity(items) for asset, items in per_asset.items()}


class PortfolioService:
    def __init__(self, mode: str, account: str = "main") -> None:
        self.mode = mode
        self.account = account
        self.snapshots = PortfolioRepository(mode, account)
        self.balances = BalanceRepository(mode, account)
        self.orders = OrderRepository(mode, account)

    async def latest(self) -> PortfolioView | None:
        row = await self.snapshots.latest()
        if row is None:
            return None
        return PortfolioView(taken_at=row.taken_at, total_usd=row.total_usd, positions=list(row.positions),
                             unpriced_assets=list(row.unpriced_assets))

    async def totals_since(self, since: datetime) -> list[tuple[datetime, Decimal]]:
        return await self.snapshots.totals_since(since)

    async def unprotected(self) -> tuple[UnprotectedPosition, ...]:
        """Holdings minus open sells, valued at the last snapshot's prices."""
        holdings = {asset: total for asset, total in (await self.balances.totals()).items() if total > ZERO}
        covered = covered_by_asset(await self.orders.open_sells())
        latest = await self.latest()
        prices: dict[str, Decimal | None] = {}
        if latest is not None:
            for position in latest.positions:
                if position.get("price") is not None:
                    prices[f"{position['asset']}_USD"] = Decimal(str(position["price"]))
        return unprotected_positions(holdings, covered, prices)
