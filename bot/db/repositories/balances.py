"""Balances as the last sync saw them (one mode + account)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Protocol

from bot.db.models import BalanceRecord


class Balance(Protocol):
    """An exchange balance as the adapter reports it (the db layer does not import the adapter)."""
    @property
    def total(self) -> Decimal: ...
    @property
    def free(self) -> Decimal: ...
    @property
    def locked(self) -> Decimal: ...


class BalanceRepository:
    def __init__(self, mode: str, account: str = "main") -> None:
        self.mode = mode
        self.account = account

    async def mirror(self, balances: Mapping[str, Balance]) -> None:
        """Make the stored balances the exchange's: changed rows updated, gone assets deleted."""
        stored = {b.asset: b for b in await BalanceRecord.filter(mode=self.mode, account=self.account)}
        for asset, balance in balances.items():
            row = stored.pop(asset, None)
            if row is None:
                await BalanceRecord.create(mode=self.mode, account=self.account, asset=asset,
                                           total=balance.total, free=balance.free, locked=balance.locked)
            elif (row.total, row.free, row.locked) != (balance.total, balance.free, balance.locked):
                row.total, row.free, row.locked = balance.total, balance.free, balance.locked
                await row.save()
        for row in stored.values():
            await row.delete()

    async def all(self) -> list[BalanceRecord]:
        rows: list[BalanceRecord] = await BalanceRecord.filter(mode=self.mode, account=self.account).order_by("asset")
        return rows

    async def totals(self) -> dict[str, Decimal]:
        """asset -> total held (free + locked)."""
        return {b.asset: b.total for b in await self.all()}
