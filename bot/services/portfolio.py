"""The portfolio as the last sync saw it, and the holdings no open sell protects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bot.db.repositories import (
    BalanceRepository,
    OrderRepository,
    PortfolioRepository,
)
from bot.domain.portfolio import UnprotectedPosition
from bot.services.open_book import OpenBookReader, unprotected_of


@dataclass(frozen=True)
class PortfolioView:
    taken_at: datetime
    total_usd: Decimal
    positions: list[dict[str, str | None]]     # [{asset, quantity, price|None, usd_value|None}]
    unpriced_assets: list[str]


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
        return unprotected_of(await OpenBookReader(self.mode, self.account).read(with_groups=False))
