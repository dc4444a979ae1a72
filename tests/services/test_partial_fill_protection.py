"""A buy that fills in parts is protected part by part while it is still open: each newly filled
quantity that can be placed on its own gets its own OCO group (a tranche), within one sync cycle."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from bot.db.models import OcoGroupRecord, OrderRecord
from bot.domain.events import OcoLegDone, ProtectionFailed, ProtectionPlaced
from bot.domain.oco import GroupState
from bot.domain.orders import OrderStatus, OrderType, Side
from bot.exchange.base import OrderRequest
from tests.services.sim_exchange import SimulatedExchange, simulated_exchange
from tests.services.sync_harness import Harness, build

pytestmark = pytest.mark.sync
D = Decimal


async def open_buy(exchange: SimulatedExchange, qty: str) -> str:
    order = await exchange.create_order(OrderRequest(symbol="BTC_USDT", side=Side.BUY, order_type=OrderType.LIMIT,
                                                     client_oid=f"hand-{qty}", quantity=D(qty), price=D(100000)))
    return order.order_id


async def tranches(buy_id: str) -> list[OcoGroupRecord]:
    return list(await OcoGroupRecord.filter(entry_order_id=buy_id).order_by("tranche"))


def live_stop_losses(exchange: SimulatedExchange, groups: list[OcoGroupRecord]) -> dict[str, Decimal]:
    """Per group, the quantity of its stop-loss open on the exchange (what really protects the coins)."""
    by_oid = {o.client_oid: o for o in exchange.orders.values()}
    found = {}
    for group in groups:
        stop = by_oid.get(group.stop_loss_client_oid)
        if stop is not None and stop.status.is_open:
            found[group.id] = stop.quantity
    return found


@pytest.mark.parametrize("native", [True, False], ids=["native_oco", "two_linked_orders"])
async def test_a_buy_filled_in_five_parts_is_never_unprotected_beyond_one_cycle(db: str, native: bool) -> None:
    async with simulated_exchange({"USDT": D(100000)}, native_oco=native) as exchange:
        h = build(exchange)
        await h.sync.run_cycle()                               # the bot begins watching
        buy_id = await open_buy(exchange, "0.05")
        await h.sync.run_cycle()
        # The third part alone is worth less than the exchange's minimum at the stop price
        # (0.00001 BTC x 97,000 < 1 USDT): it waits for the next part and goes with it.
        parts = ["0.012", "0.009", "0.00001", "0.02", "0.00899"]
        expected_tranches = [D("0.012"), D("0.009"), D("0.02001"), D("0.00899")]
        filled = D(0)
        for part in parts:
            exchange.fill(buy_id, D(part))
            filled += D(part)
            await h.sync.run_cycle()                           # one sync interval later
            groups = await tranches(buy_id)
            protected = sum((g.quantity for g in groups), D(0))
            assert all(g.state == GroupState.ACTIVE for g in groups)
            assert protected == (filled if part != "0.00001" else filled - D(part))
            assert sum(live_stop_losses(exchange, groups).values(), D(0)) == protected
            buy = exchange.orders[buy_id]
            assert buy.status.is_final is (filled == D("0.05"))
        groups = await tranches(buy_id)
        assert [g.quantity for g in groups] == expected_tranches
        assert [g.tranche for g in groups] == [0, 1, 2, 3]
        assert groups[0].entry_exchange_order_id == buy_id and all(g.entry_exchange_order_id is None
                                                                    for g in groups[1:])
        assert [e.quantity for e in h.of(ProtectionPlaced)] == expected_tranches
        assert not h.of(ProtectionFailed)
        assert not (await OrderRecord.get(exchange_order_id=buy_id)).protection_due

        exchange.set_price("BTC_USDT", D(103000))              # every tranche's take-profit fills
        for _ in range(2):
            await h.sync.run_cycle()
        done = h.of(OcoLegDone)
        assert sorted(e.quantity for e in done) == sorted(expected_tranches)
        assert all(e.leg == "take_profit" and e.sibling_canceled for e in done)
        assert all(g.state == GroupState.CLOSED for g in await tranches(buy_id))
        assert not [o for o in exchange.orders.values() if o.side is Side.SELL and o.status.is_open]


async def test_a_remainder_too_small_to_place_is_reported_when_the_buy_ends(db: str) -> None:
    async with simulated_exchange({"USDT": D(100000)}) as exchange:
        h = build(exchange)
        await h.sync.run_cycle()
        buy_id = await open_buy(exchange, "0.01")
        await h.sync.run_cycle()
        exchange.fill(buy_id, D("0.004"))
        await h.sync.run_cycle()
        exchange.fill(buy_id, D("0.00001"))
        await h.sync.run_cycle()
        assert [g.quantity for g in await tranches(buy_id)] == [D("0.004")]
        await exchange.cancel_order(symbol="BTC_USDT", order_id=buy_id)   # the rest will never fill
        await h.sync.run_cycle()
        groups = await tranches(buy_id)
        assert [(g.state, g.quantity, g.entry_quantity) for g in groups] == [
            (GroupState.ACTIVE, D("0.004"), D("0.004")), (GroupState.FAILED, D(0), D("0.00001"))]
        failed = h.of(ProtectionFailed)
        assert len(failed) == 1 and failed[0].reason_key == "below_minimum"
        assert failed[0].wanted_quantity == D("0.00001")
        for _ in range(2):                                     # reported once, never retried
            await h.sync.run_cycle()
        assert len(h.of(ProtectionFailed)) == 1 and len(await tranches(buy_id)) == 2


async def test_the_order_stream_protects_each_part_as_it_fills(db: str) -> None:
    """With the stream (polling here) the tranche follows the part without waiting for a cycle."""
    async with simulated_exchange({"USDT": D(100000)}) as exchange:
        h: Harness = build(exchange)
        await h.sync.run_cycle()
        stream = asyncio.create_task(h.sync.follow_order_stream())
        try:
            buy_id = await open_buy(exchange, "0.02")
            await h.sync.run_cycle()
            for part, protected in (("0.005", D("0.005")), ("0.007", D("0.012"))):
                exchange.fill(buy_id, D(part))
                deadline = asyncio.get_running_loop().time() + 5
                while sum((g.quantity for g in await tranches(buy_id)), D(0)) != protected:
                    assert asyncio.get_running_loop().time() < deadline, f"{part} not protected"
                    await asyncio.sleep(0.05)
            assert (await OrderRecord.get(exchange_order_id=buy_id)).status == OrderStatus.ACTIVE.value
        finally:
            stream.cancel()
            await asyncio.gather(stream, return_exceptions=True)
