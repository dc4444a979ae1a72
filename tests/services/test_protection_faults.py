"""Exchange faults while placing protection: a dropped answer is resolved by client_oid, a refusal is
reported once and never retried in a loop."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bot.db.models import OcoGroupRecord
from bot.domain.events import ProtectionFailed, ProtectionPlaced
from bot.domain.orders import OrderType, Side
from bot.exchange.base import OcoPlacement, OcoRequest, OrderRequest
from bot.exchange.errors import ExchangeUnavailable, InvalidOrder
from tests.services.stand_in_exchange import StandInExchange
from tests.services.sync_harness import BTC, Harness, build

pytestmark = pytest.mark.sync
D = Decimal


class DropsOcoAnswer(StandInExchange):
    """Places the OCO, then loses the answer (timeout after the exchange acted)."""
    dropped = 0

    async def create_oco(self, request: OcoRequest) -> OcoPlacement:
        placement = await super().create_oco(request)
        if not self.dropped:
            self.dropped += 1
            raise ExchangeUnavailable("timeout; outcome unknown")
        return placement


class RefusesSide(StandInExchange):
    async def create_oco(self, request: OcoRequest) -> OcoPlacement:
        self.calls.append("create_oco")
        raise InvalidOrder("invalid side for this order", code="220")


async def filled_buy(exchange: StandInExchange) -> Harness:
    exchange.set_price("BTC_USDT", D(100500))
    h = build(exchange)
    await h.sync.run_cycle()
    await exchange.create_order(OrderRequest(symbol="BTC_USDT", side=Side.BUY, order_type=OrderType.LIMIT,
                                             client_oid="b1", quantity=D("0.05"), price=D(100000)))
    await h.sync.run_cycle()
    exchange.set_price("BTC_USDT", D(100000))
    await h.sync.run_cycle()
    return h


async def test_dropped_answer_is_resolved_by_client_oid_without_a_second_order(db: str) -> None:
    exchange = DropsOcoAnswer({"BTC_USDT": BTC}, {"USDT": D(100000)})
    h = await filled_buy(exchange)
    assert exchange.dropped == 1
    await h.sync.run_cycle()      # the same cycle's pending sweep already looked the legs up
    group = await OcoGroupRecord.first()
    assert group is not None and group.state == "active" and len(h.of(ProtectionPlaced)) == 1
    assert group.native_list_id is not None   # the answer was lost; the list was found by client_oid
    assert exchange.calls.count("create_oco") == 1
    assert len([o for o in exchange.orders.values() if o.side is Side.SELL]) == 2


async def test_refused_protection_is_reported_once_and_not_retried(db: str) -> None:
    exchange = RefusesSide({"BTC_USDT": BTC}, {"USDT": D(100000)})
    h = await filled_buy(exchange)
    for _ in range(3):
        await h.sync.run_cycle()
    failures: list[Any] = h.of(ProtectionFailed)
    assert len(failures) == 1 and "invalid side" in failures[0].reason
    assert failures[0].wanted_quantity == D("0.05") and failures[0].protected_quantity == 0
    assert exchange.calls.count("create_oco") == 1
    assert "create_trigger_order" not in exchange.calls
    assert (await OcoGroupRecord.first()).state == "failed"  # type: ignore[union-attr]
