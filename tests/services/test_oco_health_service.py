"""OCO health from the mirror: a hand-canceled leg shows as an incomplete group."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.db.models import OcoGroupRecord
from bot.services.oco_health import OcoHealthService
from tests.services.sim_exchange import simulated_exchange
from tests.services.sync_harness import bought

pytestmark = pytest.mark.sync
D = Decimal


async def test_hand_canceled_take_profit_shows_as_incomplete_group(db: str) -> None:
    async with simulated_exchange({"USDT": D(100000), "BTC": D(2)}, native_oco=False) as exchange:
        h = await bought(exchange, "0.1")
        await h.sync.run_cycle()
        health = await OcoHealthService(exchange.mode).check()
        assert health.ok and health.active_groups == 1
        assert [(p.asset, p.quantity) for p in health.unprotected] == [("BTC", D(2))]   # held before watching

        group = await OcoGroupRecord.first()
        assert group is not None
        await exchange.cancel_order(symbol="BTC_USDT", client_oid=group.take_profit_client_oid)   # by hand
        await h.sync.run_cycle()
        health = await OcoHealthService(exchange.mode).check()
        assert [i.kind for i in health.issues] == ["incomplete_group"]
        assert health.issues[0].group_id == group.id
