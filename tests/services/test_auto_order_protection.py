"""A buy the bot sends as an OTOCO is protected by the exchange from its first fill: the sync adopts
its stop-loss and take-profit legs as the buy's group (no false "protection failed"), and the legs'
outcome is followed like any other group. On the simulator, through the live adapter."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.db.models import OcoGroupRecord, OrderRecord, WatchlistEntry
from bot.domain.events import AutoOrderPlaced, OcoLegDone, ProtectionFailed, ProtectionPlaced
from bot.domain.orders import OrderStatus
from bot.services.auto_orders import AutoOrderService
from tests.services.sim_exchange import simulated_exchange
from tests.services.sync_harness import build

pytestmark = pytest.mark.sync
D = Decimal


async def test_an_otoco_buy_is_adopted_as_its_group_and_its_take_profit_closes_it(db: str) -> None:
    async with simulated_exchange({"USDT": D(100000)}) as exchange:
        h = build(exchange)
        await h.sync.run_cycle()
        coin = await WatchlistEntry.create(symbol="BTC_USDT", trade_enabled=True, amount_usd=D(1000))
        decision = await AutoOrderService(exchange, h.events).consider(coin, D(100000), datetime.now(UTC))
        assert decision.allowed
        await h.sync.run_cycle()
        exchange.set_price("BTC_USDT", D(99990))              # the entry fills; the exits go live
        await h.sync.run_cycle()
        await h.sync.run_cycle()

        assert not h.of(ProtectionFailed)
        placed = h.of(ProtectionPlaced)
        assert len(placed) == 1 and placed[0].native_oco
        assert (placed[0].stop_loss_price, placed[0].take_profit_price) == (D(97000), D(103000))
        group = await OcoGroupRecord.get(id=placed[0].group_id)
        assert group.state == "active" and group.native_list_id is not None
        legs = await OrderRecord.filter(oco_group_id=group.id).order_by("role")
        assert [leg.role for leg in legs] == ["stop_loss", "take_profit"]
        assert exchange.exchange_calls("private/advanced/create-oco") == 0        # nothing sent twice

        exchange.set_price("BTC_USDT", D(103100))             # the take-profit fires and fills
        await h.sync.run_cycle()
        done = h.of(OcoLegDone)
        assert len(done) == 1 and done[0].leg == "take_profit" and done[0].sibling_canceled
        stop = await exchange.order_detail(client_oid=group.stop_loss_client_oid)
        assert stop is not None and stop.status is OrderStatus.CANCELED
        assert (await OcoGroupRecord.get(id=group.id)).state == "closed"


async def test_the_automatic_buys_message_gives_the_exits_the_exchange_holds(db: str) -> None:
    """3 % under and over 2,223.35 fall between ticks (2,156.6495 and 2,290.0505): the exchange rounds
    each exit in its safe direction (the stop down, the target up), and so must the message."""
    async with simulated_exchange({"USDT": D(100000)}, price=D("2223.35")) as exchange:
        h = build(exchange)
        await h.sync.run_cycle()
        coin = await WatchlistEntry.create(symbol="BTC_USDT", trade_enabled=True, amount_usd=D(100))
        assert (await AutoOrderService(exchange, h.events).consider(coin, D("2223.35"), datetime.now(UTC))).allowed
        [told] = h.of(AutoOrderPlaced)
        exchange.set_price("BTC_USDT", D("2223.00"))          # the entry fills; the exits go live
        await h.sync.run_cycle()
        await h.sync.run_cycle()
        [placed] = h.of(ProtectionPlaced)
        assert (told.stop_loss_price, told.take_profit_price) == (placed.stop_loss_price, placed.take_profit_price)
        assert (placed.stop_loss_price, placed.take_profit_price) == (D("2156.64"), D("2290.06"))
