"""A storm of exchange faults (5xx, dropped answers, 42901, latency) on a share of every request while
buys fill and their take-profits are reached: nothing is lost and nothing is sent twice. Exactly one
protection per buy, every group closed by its take-profit, no coin sold twice. The simulator (seeded,
so a failure replays) through the live adapter."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest

from bot.db.models import OcoGroupRecord
from bot.domain.events import OcoLegDone, ProtectionFailed, ProtectionPlaced
from bot.domain.orders import OrderStatus, OrderType, Side
from bot.exchange.errors import ExchangeError
from tests.services.sim_exchange import SimulatedExchange, simulated_exchange
from tests.services.sync_harness import Harness, build

pytestmark = pytest.mark.sync
D = Decimal
BUYS = 5


async def cycles_until(h: Harness, done: Callable[[], Awaitable[bool]], what: str, limit: int = 40) -> int:
    """Sync cycles until `done`; a cycle the storm breaks is followed by the next, as the job does."""
    errors: list[str] = []
    for n in range(1, limit + 1):
        try:
            await h.sync.run_cycle()
        except ExchangeError as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        if await done():
            return n
    groups = await OcoGroupRecord.all().values("state", "failure_reason", "quantity")
    raise AssertionError(f"not {what} through the storm; groups {groups}; cycle errors {Counter(errors)}")


def hand_buy(exchange: SimulatedExchange, n: int, price: Decimal) -> str:
    """The user buys on the exchange's own site: not through our API, so no fault touches it."""
    engine = exchange.sim.engine
    order = engine.place(symbol="BTC_USDT", side=Side.BUY, order_type=OrderType.LIMIT, client_oid=f"site-{n}",
                         quantity=D("0.01"), price=price, now_ns=exchange.sim.simulator.clock())
    return order.order_id


@pytest.mark.parametrize(("native", "websocket"), [(True, False), (False, False), (True, True), (False, True)],
                         ids=["native_oco", "two_linked_orders", "native_oco+stream", "two_linked_orders+stream"])
async def test_a_storm_of_faults_loses_nothing_and_sends_nothing_twice(db: str, native: bool,
                                                                       websocket: bool) -> None:
    async with simulated_exchange({"USDT": D(1_000_000)}, native_oco=native, websocket=websocket) as exchange:
        h = build(exchange)
        await cycles_until(h, lambda: _true(), "watching")
        stream = asyncio.create_task(h.sync.follow_order_stream()) if websocket else None
        try:
            exchange.sim.faults.chaos(0.3, seed=int(os.environ.get("CHAOS_SEED", "20261201")))
            for n in range(BUYS):
                price = D(100000) + n * 500
                exchange.set_price("BTC_USDT", price + 200)
                buy_id = hand_buy(exchange, n, price)
                await cycles_until(h, lambda b=buy_id: _seen(b), "seen")       # the sync notices the open buy
                exchange.set_price("BTC_USDT", price)                   # it fills
                await cycles_until(h, lambda b=buy_id: _group_is(b, "active"), "protected")
                group = await OcoGroupRecord.get(entry_exchange_order_id=buy_id)
                exchange.set_price("BTC_USDT", group.take_profit_price)  # the take-profit is reached
                await cycles_until(h, lambda b=buy_id: _group_is(b, "closed"), "closed")
            exchange.sim.faults.clear()
            await h.sync.run_cycle()

            hits = exchange.sim.faults.chaos_hits
            assert sum(hits.values()) >= 20, hits                      # it really was a storm
            groups = await OcoGroupRecord.all()
            assert len(groups) == BUYS and {g.state for g in groups} == {"closed"}
            assert [e.leg for e in h.of(OcoLegDone)] == ["take_profit"] * BUYS
            assert len(h.of(ProtectionPlaced)) == BUYS
            failures = h.of(ProtectionFailed)
            assert all(f.reason_key == "sibling_not_canceled" for f in failures), [f.reason for f in failures]

            sells = [o for o in exchange.orders.values() if o.side is Side.SELL]
            per_client_oid = Counter(o.client_oid for o in sells)
            assert max(per_client_oid.values()) == 1                   # no leg was ever placed twice
            assert len(sells) == 2 * BUYS                              # a stop-loss and a take-profit per buy
            assert Counter(o.status for o in sells) == {OrderStatus.FILLED: BUYS, OrderStatus.CANCELED: BUYS}
            total, locked = exchange.sim.engine.balances()["BTC"]
            assert (total, locked) == (0, 0)                           # every coin bought was sold once
        finally:
            if stream is not None:
                stream.cancel()
                await asyncio.gather(stream, return_exceptions=True)


async def _true() -> bool:
    return True


async def _seen(order_id: str) -> bool:
    from bot.db.models import OrderRecord

    return await OrderRecord.filter(exchange_order_id=order_id).exists()


async def _group_is(entry_id: str, state: str) -> bool:
    group = await OcoGroupRecord.get_or_none(entry_exchange_order_id=entry_id)
    return group is not None and group.state == state
