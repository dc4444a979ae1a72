"""A filled buy gets SL + TP in one OCO group; a leg's fill closes the group and cancels its sibling."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import pytest

from bot.db.models import OcoGroupRecord, OrderRecord
from bot.domain.events import OcoLegDone, OrderCanceled, OrderFilled, ProtectionFailed, ProtectionPlaced
from bot.domain.oco import GroupState
from bot.domain.orders import OrderStatus, OrderType, Side
from bot.exchange.base import OrderRequest
from bot.exchange.simulator import SimulatorConfig
from bot.services.portfolio import PortfolioService
from tests.services.sim_exchange import SimulatedExchange, simulated_exchange
from tests.services.sync_harness import Harness, bought, build, eventually

pytestmark = pytest.mark.sync
D = Decimal


def new_exchange(*, native_oco: bool = True, btc: Decimal = D(0), usdt: Decimal = D(100000),
                 **options: Any) -> Any:
    """The simulator (BTC_USDT at 100,500) through the live adapter."""
    return simulated_exchange({"USDT": usdt, "BTC": btc}, native_oco=native_oco, **options)


async def hand_buy(exchange: SimulatedExchange, qty: str = "0.01", price: str = "100000") -> str:
    order = await exchange.create_order(OrderRequest(symbol="BTC_USDT", side=Side.BUY, order_type=OrderType.LIMIT,
                                                     client_oid=f"hand-{qty}-{price}", quantity=D(qty),
                                                     price=D(price)))
    return order.order_id


@pytest.mark.parametrize("native", [True, False], ids=["native_oco", "two_linked_orders"])
async def test_tp_fill_closes_group_and_cancels_sl(db: str, native: bool) -> None:
    async with new_exchange(native_oco=native) as exchange:
        h = build(exchange)
        await h.sync.run_cycle()                       # the bot begins watching
        buy_id = await hand_buy(exchange)
        await h.sync.run_cycle()                       # sees the buy open
        exchange.set_price("BTC_USDT", D(100000))      # the buy fills
        await h.sync.run_cycle()

        placed = h.of(ProtectionPlaced)
        assert len(placed) == 1
        assert (placed[0].stop_loss_price, placed[0].take_profit_price) == (D(97000), D(103000))
        assert placed[0].quantity == D("0.01") and placed[0].native_oco is native
        assert [e.order_id for e in h.of(OrderFilled)] == [buy_id]
        group = await OcoGroupRecord.get(entry_exchange_order_id=buy_id)
        assert group.state == GroupState.ACTIVE
        await h.sync.run_cycle()                       # legs now mirrored
        legs = await OrderRecord.filter(oco_group_id=group.id).order_by("role")
        # Native: the take-profit is the OCO's resting limit. Linked: both legs wait as triggers.
        take_status = "ACTIVE" if native else "PENDING"
        assert [(leg.role, leg.status) for leg in legs] == [("stop_loss", "PENDING"), ("take_profit", take_status)]

        exchange.set_price("BTC_USDT", D(103000))      # TP fills
        await h.sync.run_cycle()

        done = h.of(OcoLegDone)
        assert len(done) == 1 and done[0].leg == "take_profit" and done[0].sibling_canceled
        # 30 gained, less the buy's maker fee (2.50) and the take-profit's: maker 2.575 as the OCO's
        # resting limit, taker 5.15 as a triggered take-profit-limit.
        assert done[0].pnl == (D("24.925") if native else D("22.35")) and done[0].exit_price == D(103000)
        await h.sync.run_cycle()
        stop = await OrderRecord.get(client_oid=group.stop_loss_client_oid)
        assert stop.status == OrderStatus.CANCELED
        assert (await OcoGroupRecord.get(id=group.id)).state == GroupState.CLOSED
        assert any(e.role == "stop_loss" for e in h.of(OrderCanceled))
        assert not h.of(ProtectionFailed)


async def test_stream_cancels_sibling_without_waiting_for_the_sync(db: str) -> None:
    async with new_exchange(native_oco=False, websocket=True) as exchange:
        h = build(exchange)
        async with _protected_buy_on_the_stream(h, exchange):
            await asyncio.sleep(0.05)
            exchange.set_price("BTC_USDT", D(103000))
            await eventually(lambda: _has(h, OcoLegDone))
            group = await OcoGroupRecord.first()
            assert group is not None
            stop = await exchange.order_detail(client_oid=group.stop_loss_client_oid)
            assert stop is not None and stop.status is OrderStatus.CANCELED


async def test_coins_sold_by_a_streamed_take_profit_never_show_as_unprotected(db: str) -> None:
    """The group closes at once on the push; the balances mirror follows the same push, not the next
    sync (up to a minute later), so /orders and the daily report never list the sold coins as held
    and unprotected in between."""
    async with new_exchange(native_oco=False, websocket=True) as exchange:
        h = build(exchange)
        portfolio = PortfolioService(exchange.mode)
        async with _protected_buy_on_the_stream(h, exchange):
            await h.sync.run_cycle()                       # the mirror holds the 0.01 BTC, covered
            assert await portfolio.unprotected() == ()
            exchange.set_price("BTC_USDT", D(103000))      # the take-profit sells them
            await eventually(lambda: _has(h, OcoLegDone))

            async def nothing_unprotected() -> bool:
                return await portfolio.unprotected() == ()
            await eventually(nothing_unprotected)


async def test_a_streamed_leg_fill_cancels_its_sibling_before_it_is_stored_and_only_once(db: str) -> None:
    async with new_exchange(native_oco=False, websocket=True) as exchange:
        h = build(exchange)
        async with _protected_buy_on_the_stream(h, exchange):
            group = await OcoGroupRecord.first()
            assert group is not None and len(h.protection.legs.links) == 2     # both legs followed
            await asyncio.sleep(0.05)
            with _writes_blocked(db):
                # Nothing can be stored now (SQLite: another writer holds the file): the stop-loss
                # is cancelled all the same, from the push alone.
                exchange.set_price("BTC_USDT", D(103000))                 # the take-profit fills
                await eventually(lambda: _stop_status(exchange, group.stop_loss_client_oid, OrderStatus.CANCELED),
                                 timeout=2.0)
            await eventually(lambda: _has(h, OcoLegDone))
        [done] = h.of(OcoLegDone)
        assert done.sibling_canceled and done.leg == "take_profit"
        assert exchange.exchange_calls("private/advanced/cancel-order") == 1   # the early cancel, reused
        assert len(h.protection.legs.links) == 0


@contextlib.asynccontextmanager
async def _protected_buy_on_the_stream(h: Harness, exchange: SimulatedExchange) -> AsyncIterator[None]:
    """The order stream followed, then a hand buy filled and protected (seen on the stream)."""
    await h.sync.run_cycle()
    stream = asyncio.create_task(h.sync.follow_order_stream())
    try:
        # Subscribed before the buy fills: a fill before that is the next sync's to find.
        await eventually(lambda: _subscribed(exchange))
        await hand_buy(exchange)
        exchange.set_price("BTC_USDT", D(100000))
        await eventually(lambda: _has(h, ProtectionPlaced))
        yield
    finally:
        stream.cancel()
        await asyncio.gather(stream, return_exceptions=True)


@contextlib.contextmanager
def _writes_blocked(db: str) -> Iterator[None]:
    """Another connection holds SQLite's write lock for the block (nothing on PostgreSQL)."""
    if not db.startswith("sqlite"):
        yield
        return
    with contextlib.closing(sqlite3.connect(db.removeprefix("sqlite://").split("?")[0])) as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.rollback()


async def _stop_status(exchange: SimulatedExchange, client_oid: str | None, status: OrderStatus) -> bool:
    order = exchange.sim.engine.get(client_oid=client_oid)
    return order is not None and order.status is status


async def _has(h, kind) -> bool:  # type: ignore[no-untyped-def]
    return bool(h.of(kind))


async def _subscribed(exchange: SimulatedExchange) -> bool:
    return any(stream.connected.is_set() for stream in exchange.streams)


async def test_hand_buy_with_sells_locking_part_protects_only_the_free_part(db: str) -> None:
    async with new_exchange(usdt=D(200000)) as exchange:
        h = build(exchange)
        await h.sync.run_cycle()
        await hand_buy(exchange, qty="1")
        await h.sync.run_cycle()
        exchange.set_price("BTC_USDT", D(100000))      # 1 BTC bought
        hand_sell = await exchange.create_order(OrderRequest(   # and 0.4 of it put up for sale by hand at once
            symbol="BTC_USDT", side=Side.SELL, order_type=OrderType.LIMIT, client_oid="hand-sell",
            quantity=D("0.4"), price=D(150000)))
        await h.sync.run_cycle()

        placed = h.of(ProtectionPlaced)      # one event: what stands, what is missing and why
        assert len(placed) == 1 and placed[0].quantity == D("0.6") and placed[0].wanted_quantity == D(1)
        assert placed[0].problem is not None and hand_sell.order_id in placed[0].problem.text
        assert not h.of(ProtectionFailed)
        assert "create_order" not in exchange.calls[exchange.calls.index("create_oco") + 1:]   # nothing more sent


async def test_fills_found_by_the_first_sync_never_place_orders(db: str) -> None:
    async with new_exchange() as exchange:
        await hand_buy(exchange, qty="0.5")
        exchange.set_price("BTC_USDT", D(100000))      # filled before the bot ever looked
        h = build(exchange)
        await h.sync.run_cycle()
        await h.sync.run_cycle()
        assert await OrderRecord.filter(status="FILLED").count() == 1
        assert "create_oco" not in exchange.calls and not h.of(ProtectionPlaced) and not h.of(OrderFilled)
        from bot.services.portfolio import PortfolioService

        unprotected = await PortfolioService(exchange.mode).unprotected()
        assert [(p.asset, p.quantity, p.value_at_risk_usd) for p in unprotected] == [("BTC", D("0.5"), D("50000.00"))]


async def test_partial_tp_fill_shrinks_the_stop_loss(db: str) -> None:
    async with new_exchange(native_oco=False, usdt=D(200000)) as exchange:
        h = await bought(exchange, "1")
        group = await OcoGroupRecord.first()
        assert group is not None
        take = await exchange.order_detail(client_oid=group.take_profit_client_oid)
        assert take is not None
        exchange.fill(take.order_id, D("0.3"))
        await h.sync.run_cycle()
        open_stops = [o for o in await exchange.open_orders() if o.order_type is OrderType.STOP_LOSS]
        assert [o.quantity for o in open_stops] == [D("0.7")]
        exchange.set_price("BTC_USDT", D(96000))      # the reduced stop triggers
        await h.sync.run_cycle()
        assert [e.leg for e in h.of(OcoLegDone)] == ["stop_loss"]
        assert not [o for o in await exchange.open_orders()]


async def test_fee_taken_from_the_bought_coin_is_no_shortfall(db: str) -> None:
    def fee_in_coin(config: SimulatorConfig) -> None:
        config.buy_fee_in_base = True
        config.maker_fee_percent = D("0.1")

    async with simulated_exchange({"USDT": D(100000)}, configure=fee_in_coin) as exchange:
        h = await bought(exchange, "0.1")
        placed = h.of(ProtectionPlaced)
        assert [p.quantity for p in placed] == [D("0.0999")]      # 0.1 bought, 0.0001 BTC fee
        assert not h.of(ProtectionFailed)


async def test_linked_legs_where_stops_reserve_keep_the_stop_and_report_the_take_profit(db: str) -> None:
    def reserving(config: SimulatorConfig) -> None:
        config.trigger_orders_lock = True

    async with simulated_exchange({"USDT": D(100000)}, native_oco=False, configure=reserving) as exchange:
        h = await bought(exchange, "0.01")
        for _ in range(2):
            await h.sync.run_cycle()
        open_sells = [o for o in await exchange.open_orders() if o.side is Side.SELL]
        assert [(o.order_type, o.quantity) for o in open_sells] == [(OrderType.STOP_LOSS, D("0.01"))]
        [placed] = h.of(ProtectionPlaced)    # one event says the stop-loss stands and the take-profit was refused
        assert not placed.take_profit_placed and placed.problem is not None
        assert placed.problem.key == "take_profit_refused" and not h.of(ProtectionFailed)
        assert exchange.exchange_calls("private/advanced/create-order") == 2      # SL, then the TP once
