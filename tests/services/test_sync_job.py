"""The sync job never runs two cycles at once (in-process lock, and Redis across processes)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from bot.domain.events import OrderCanceled, OrderFilled
from bot.domain.orders import OrderType, Side
from bot.exchange.base import OrderRequest
from bot.jobs.sync_job import make_sync_job, run_sync_cycle
from bot.services.locks import LocalJobLock, RedisJobLock
from tests.services.sim_exchange import simulated_exchange
from tests.services.sync_harness import build

pytestmark = pytest.mark.sync
D = Decimal


@pytest.mark.parametrize("lock_kind", ["local", "redis"])
async def test_second_tick_is_skipped_while_a_cycle_runs(db: str, redis_client: Any, lock_kind: str) -> None:
    async with simulated_exchange({"USDT": D(100)}) as exchange:
        exchange.sim.faults.latency("private/user-balance", 0.3, times=1)   # holds the first cycle open
        h = build(exchange)
        lock = LocalJobLock() if lock_kind == "local" else RedisJobLock(redis_client)
        first, second = await asyncio.wait_for(asyncio.gather(run_sync_cycle(h.sync, lock),
                                                              run_sync_cycle(h.sync, lock)), 20)
        assert sum(r is not None for r in (first, second)) == 1
        assert exchange.calls.count("open_orders") == 1
        assert await make_sync_job(h.sync, lock)() is not None   # free again afterwards


async def test_hand_placed_and_canceled_orders_are_picked_up_with_events(db: str) -> None:
    async with simulated_exchange({"USDT": D(100000), "BTC": D(1)}, price=D(100000)) as exchange:
        h = build(exchange)
        await h.sync.run_cycle()
        sell = await exchange.create_order(OrderRequest(symbol="BTC_USDT", side=Side.SELL, order_type=OrderType.LIMIT,
                                                        client_oid="by-hand", quantity=D("0.5"), price=D(120000)))
        await h.sync.run_cycle()
        exchange.fill(sell.order_id, D("0.2"))             # partly sold
        await h.sync.run_cycle()
        await exchange.cancel_order(symbol="BTC_USDT", order_id=sell.order_id)
        await h.sync.run_cycle()
        fills = h.of(OrderFilled)
        assert [(f.order_id, f.quantity, f.partial, f.role) for f in fills] == [
            (sell.order_id, D("0.2"), True, "manual")]
        cancels = h.of(OrderCanceled)
        assert [(c.order_id, c.quantity) for c in cancels] == [(sell.order_id, D("0.5"))]
