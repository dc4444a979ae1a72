"""The linked take-profit refused with 229 (INVALID_REF_PRICE: any trigger price the exchange will not
take) falls back to a plain limit sell only when the market already reached the target, where that
sell fills at once. Elsewhere (a target too far from the market) a resting limit sell would hold the
coins the stop-loss needs when it fires: the refusal stands, and is told."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.db.models import OcoGroupRecord
from bot.domain.orders import OrderStatus, OrderType
from bot.exchange.errors import InvalidOrder
from bot.services.protection import LegSender
from tests.services.sim_exchange import simulated_exchange

pytestmark = pytest.mark.sync
D = Decimal


def group_with_target(take_profit: Decimal) -> OcoGroupRecord:
    return OcoGroupRecord(id="g", mode="live", symbol="BTC_USDT", entry_exchange_order_id="buy", state="placing",
                          quantity=D("0.01"), entry_price=D(100000), stop_loss_price=D(97000),
                          take_profit_price=take_profit)


async def test_a_market_past_the_target_takes_the_profit_at_once(db: str) -> None:
    async with simulated_exchange({"BTC": D("0.01")}, native_oco=False, price=D(104000)) as exchange:
        order = await LegSender(exchange.adapter).send_take_profit(group_with_target(D(103000)), "tp-now", D("0.01"))
        assert order.order_type is OrderType.LIMIT
        assert exchange.orders[order.order_id].status is OrderStatus.FILLED


async def test_a_target_the_exchange_will_not_take_is_refused_not_left_resting(db: str) -> None:
    async with simulated_exchange({"BTC": D("0.01")}, native_oco=False, price=D(100000)) as exchange:
        with pytest.raises(InvalidOrder) as refused:                  # 250 % of the market: too far
            await LegSender(exchange.adapter).send_take_profit(group_with_target(D(250000)), "tp-far", D("0.01"))
        assert refused.value.code == "229"
        assert exchange.orders == {}                                  # no limit sell holds the coins
