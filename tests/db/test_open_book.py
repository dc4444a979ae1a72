"""The open book's reads: light rows of every open order, the watched groups (and closed ones whose
leg is still open), their ended legs, and since when each asset's coins are exposed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.db.models import OcoGroupRecord, OrderRecord
from bot.db.repositories import OcoGroupRepository, OrderRepository
from bot.services.open_book import WATCHED_STATES

pytestmark = pytest.mark.storage
D = Decimal
MODE = "paper"


async def order(order_id: str, *, symbol: str = "BTC_USDT", side: str = "SELL", status: str = "ACTIVE",
                role: str = "manual", group: str | None = None, filled: str = "0", created: int = 0) -> None:
    await OrderRecord.create(mode=MODE, exchange_order_id=order_id, client_oid=f"c-{order_id}", symbol=symbol,
                             side=side, order_type="LIMIT", status=status, role=role, quantity=D(1),
                             filled_quantity=D(filled), price=D(100), oco_group_id=group, create_time_ns=created)


async def group(group_id: str, state: str, *, entry: str | None = None) -> None:
    await OcoGroupRecord.create(id=group_id, mode=MODE, symbol="BTC_USDT", state=state, quantity=D(1),
                                entry_price=D(100), stop_loss_price=D(97), take_profit_price=D(103),
                                entry_exchange_order_id=entry)


async def test_open_orders_groups_and_ended_legs(db: str) -> None:
    await group("g-active", "active")
    await group("g-closed", "closed")
    await group("g-old", "closed")
    await order("1", role="stop_loss", group="g-active", created=2)
    await order("2", role="take_profit", group="g-active", status="FILLED", created=3)
    await order("3", role="stop_loss", group="g-closed", created=1)          # a leftover leg, still open
    await order("4", role="take_profit", group="g-closed", status="FILLED")
    await order("5", side="BUY", created=5)
    await order("6", role="stop_loss", group="g-old", status="CANCELED")
    orders = OrderRepository(MODE)
    book = await orders.open_book()
    assert [o.order_id for o in book] == ["3", "1", "5"] and book[0].group_id == "g-closed"
    groups = await OcoGroupRepository(MODE).book_groups({"g-active", "g-closed"}, WATCHED_STATES)
    assert sorted(g.group_id for g in groups) == ["g-active", "g-closed"]
    ended = await orders.ended_legs(WATCHED_STATES, ["g-closed"])
    assert sorted(o.order_id for o in ended) == ["2", "4"]


async def test_since_when_an_asset_is_exposed_ignores_buys_an_active_group_protects(db: str) -> None:
    await order("10", symbol="BTC_USDT", side="BUY", status="FILLED", filled="1", created=100)
    await order("11", symbol="BTC_USDC", side="BUY", status="FILLED", filled="1", created=200)
    await order("12", symbol="BTC_USDT", side="BUY", status="FILLED", filled="1", created=300)   # protected
    await order("13", symbol="ETH_USDT", side="BUY", status="CANCELED", created=400)              # never filled
    await order("14", symbol="BTCX_USDT", side="BUY", status="FILLED", filled="1", created=500)   # another coin
    await group("g-12", "active", entry="12")
    await group("g-hold", "active")                       # a Protect action's group: no entry order
    since = await OrderRepository(MODE).newest_unprotected_buy_times(["BTC", "ETH", "SOL"])
    assert since == {"BTC": 200}
