"""Portfolio snapshots (one mode + account): one per sync cycle, only ever appended."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.db.models import PortfolioSnapshot
from bot.db.repositories.pagination import Ordering, Page, keyset_page

SNAPSHOTS_NEWEST_FIRST = Ordering("portfolio.history", "taken_at")
SNAPSHOTS_OLDEST_FIRST = Ordering("portfolio.history.asc", "taken_at", descending=False)


class PortfolioRepository:
    def __init__(self, mode: str, account: str = "main") -> None:
        self.mode = mode
        self.account = account

    def _snapshots(self) -> Any:
        return PortfolioSnapshot.filter(mode=self.mode, account=self.account)

    async def add(self, *, taken_at: datetime, total_usd: Decimal, unpriced_assets: Sequence[str],
                  positions: Sequence[dict[str, str | None]]) -> PortfolioSnapshot:
        row: PortfolioSnapshot = await PortfolioSnapshot.create(
            mode=self.mode, account=self.account, taken_at=taken_at, total_usd=total_usd,
            unpriced_assets=list(unpriced_assets), positions=list(positions))
        return row

    async def latest(self) -> PortfolioSnapshot | None:
        row: PortfolioSnapshot | None = await self._snapshots().order_by("-taken_at", "-id").first()
        return row

    async def totals_since(self, since: datetime) -> list[tuple[datetime, Decimal]]:
        rows = await self._snapshots().filter(taken_at__gte=since).order_by("taken_at", "id") \
            .values_list("taken_at", "total_usd")
        return [(taken_at, total) for taken_at, total in rows]

    async def first_since(self, moment: datetime) -> PortfolioSnapshot | None:
        """The first valuation at or after `moment` (the base of "change since a day ago")."""
        row: PortfolioSnapshot | None = await self._snapshots().filter(taken_at__gte=moment).order_by(
            "taken_at", "id").first()
        return row

    async def page(self, *, since: datetime | None = None, until: datetime | None = None,
                   newest_first: bool = True, cursor: str | None = None,
                   limit: int | None = None) -> Page[PortfolioSnapshot]:
        """Snapshots taken in [since, until), newest first (or oldest first, for a chart)."""
        query = self._snapshots()
        if since is not None:
            query = query.filter(taken_at__gte=since)
        if until is not None:
            query = query.filter(taken_at__lt=until)
        ordering = SNAPSHOTS_NEWEST_FIRST if newest_first else SNAPSHOTS_OLDEST_FIRST
        return await keyset_page(query, ordering, cursor=cursor, limit=limit)
