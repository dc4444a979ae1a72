"""What /portfolio and the daily report show: balances with their USD value, the total and its change
since a day ago, and how much of it no order protects. Read from the sync's snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from bot.db.repositories import PortfolioRepository
from bot.domain.money import ZERO
from bot.domain.portfolio import Position
from bot.services.portfolio import PortfolioService

DAY = timedelta(days=1)


@dataclass(frozen=True)
class PortfolioOverview:
    mode: str
    taken_at: datetime | None             # None: no sync has valued the account yet
    total_usd: Decimal
    positions: tuple[Position, ...]       # largest first, unpriced last
    change_usd: Decimal | None            # since `change_since`; None without an earlier snapshot
    change_since: datetime | None
    unprotected_usd: Decimal              # value no open sell covers (priced assets)
    unprotected_unpriced: tuple[str, ...]  # unprotected assets without a price

    @property
    def change_percent(self) -> Decimal | None:
        if self.change_usd is None:
            return None
        before = self.total_usd - self.change_usd
        return None if before <= 0 else self.change_usd / before * 100

    @property
    def unpriced(self) -> tuple[str, ...]:
        return tuple(p.asset for p in self.positions if p.price is None)


class PortfolioOverviewService:
    def __init__(self, portfolio: PortfolioService) -> None:
        self.portfolio = portfolio
        self.snapshots = PortfolioRepository(portfolio.mode, portfolio.account)

    async def overview(self, now: datetime) -> PortfolioOverview:
        latest = await self.portfolio.latest()
        unprotected = await self.portfolio.unprotected()
        at_risk = sum((p.value_at_risk_usd for p in unprotected if p.value_at_risk_usd is not None), ZERO)
        unpriced_risk = tuple(p.asset for p in unprotected if p.value_at_risk_usd is None)
        if latest is None:
            return PortfolioOverview(self.portfolio.mode, None, ZERO, (), None, None, at_risk, unpriced_risk)
        positions = tuple(Position(asset=str(p["asset"]), quantity=Decimal(str(p["quantity"])),
                                   price=None if p.get("price") is None else Decimal(str(p["price"])),
                                   usd_value=None if p.get("usd_value") is None else Decimal(str(p["usd_value"])))
                          for p in latest.positions)
        first = await self.snapshots.first_since(now - DAY)
        change: Decimal | None = None
        since: datetime | None = None
        if first is not None and first.taken_at < latest.taken_at:
            since, change = first.taken_at, latest.total_usd - first.total_usd
        return PortfolioOverview(self.portfolio.mode, latest.taken_at, latest.total_usd, positions, change, since,
                                 at_risk, unpriced_risk)
