"""The paper exchange's state in the database, so a restart keeps its orders and balances.

`PaperState.data` holds the engine snapshot without orders (balances as exact strings, last
prices, list ids, id counter) plus the market feed's clock; `PaperOrder` holds one row per order
(written only when it changed); `PaperBalance` mirrors the balances for queries. The exact
balances are restored from the JSON document, because the DECIMAL columns keep 16 decimals only.
"""

from __future__ import annotations

from decimal import Context, Decimal
from typing import Any

from tortoise.transactions import in_transaction

from bot.db.models import PaperBalance, PaperOrder, PaperState
from bot.exchange.engine import EngineOrder, MatchingEngine

_COLUMN = Decimal("1e-16")
_WIDE = Context(prec=40)   # DECIMAL(38, 16): big totals must not overflow the default 28 digits


class PaperStore:
    def __init__(self, account: str = "main") -> None:
        self.account = account

    async def load(self) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(engine snapshot with its orders, market clock state), or None when nothing was saved."""
        state = await PaperState.get_or_none(account=self.account)
        if state is None:
            return None
        data = dict(state.data)
        market = data.pop("market", {})
        rows = await PaperOrder.filter(account=self.account).order_by("create_time_ns").values_list("data", flat=True)
        data["orders"] = list(rows)
        return data, market

    async def save(self, engine: MatchingEngine, changed: list[EngineOrder], market: dict[str, Any]) -> None:
        snapshot = engine.snapshot(include_orders=False)
        snapshot["market"] = market
        async with in_transaction():
            await PaperState.update_or_create(account=self.account, defaults={"data": snapshot})
            for order in changed:
                await PaperOrder.update_or_create(
                    order_id=order.order_id,
                    defaults={"account": self.account, "client_oid": order.client_oid, "symbol": order.symbol,
                              "status": order.status.value, "data": order.to_dict(),
                              "create_time_ns": order.create_time_ns})
            for asset, (total, locked) in engine.balances().items():
                await PaperBalance.update_or_create(
                    account=self.account, asset=asset,
                    defaults={"total": total.quantize(_COLUMN, context=_WIDE),
                              "locked": locked.quantize(_COLUMN, context=_WIDE)})
