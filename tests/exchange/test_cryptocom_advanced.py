"""The live adapter against the 2026 reference (issue 11, points 1 to 7), end to end on the simulator:
the advanced order channel, list cancels, ref_price_type, the per-method rate limits, merged reads,
the wording of 229 / 43005, and answers that are not the exchange's."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from bot.devtools.simulator_harness import SimulatorHandle, running_simulator
from bot.domain.orders import OrderStatus, OrderType, Side
from bot.exchange.base import OcoRequest, OrderRequest, OtocoRequest, TriggerOrderRequest
from bot.exchange.codes import CODES
from bot.exchange.cryptocom import CryptoComExchange
from bot.exchange.errors import InvalidOrder, NativeOcoUnavailable
from tests.exchange.cryptocom_helpers import TRIGGER_TYPES, adapter, collecting, eventually, funded

D = Decimal
BTC = "BTC_USDT"


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorHandle]:
    async with running_simulator(funded()) as handle:
        yield handle


@pytest.fixture
async def live(sim: SimulatorHandle) -> AsyncIterator[CryptoComExchange]:
    exchange = adapter(sim)
    try:
        yield exchange
    finally:
        await exchange.close()


def stop_loss(client_oid: str, trigger: str = "95000", kind: OrderType = OrderType.STOP_LOSS,
              price: str | None = None) -> TriggerOrderRequest:
    return TriggerOrderRequest(BTC, Side.SELL, kind, client_oid, D("0.1"), D(trigger),
                               D(price) if price is not None else None)


def otoco(prefix: str) -> OtocoRequest:
    entry = OrderRequest(BTC, Side.BUY, OrderType.LIMIT, f"{prefix}-entry", quantity=D("0.01"), price=D("90000"))
    return OtocoRequest(entry, stop_loss_trigger=D("87000"), take_profit_price=D("95000"),
                        stop_loss_client_oid=f"{prefix}-sl", take_profit_client_oid=f"{prefix}-tp")


# --- 1. user.advance.order ---------------------------------------------------------------------------


async def test_a_stop_loss_fill_arrives_on_the_stream_from_the_advanced_channel(live: CryptoComExchange,
                                                                                sim: SimulatorHandle) -> None:
    async with collecting(live) as seen:
        await eventually(lambda: bool(live.streams) and live.streams[0].connected.is_set())
        await live.create_trigger_order(stop_loss("adv-1"))
        sim.set_price(BTC, "94000")

        await eventually(lambda: any(u.order.client_oid == "adv-1" and u.order.status is OrderStatus.FILLED
                                     for u in seen))
    filled = [u for u in seen if u.order.client_oid == "adv-1" and u.order.status is OrderStatus.FILLED]
    assert [u.source for u in filled] == ["stream"]          # not a later poll
    assert live.streams == [] or live.streams[0].channels == ["user.order", "user.advance.order"]


async def test_pushes_spelled_user_advanced_order_are_taken_too() -> None:
    async with running_simulator(funded(advanced_channel_label="user.advanced.order")) as sim:
        exchange = adapter(sim)
        try:
            async with collecting(exchange) as seen:
                await eventually(lambda: bool(exchange.streams) and exchange.streams[0].connected.is_set())
                await exchange.create_trigger_order(stop_loss("spelt"))
                sim.set_price(BTC, "94000")
                await eventually(lambda: any(u.order.client_oid == "spelt" and u.order.status is OrderStatus.FILLED
                                             and u.source == "stream" for u in seen))
        finally:
            await exchange.close()


async def test_mirrored_pushes_report_each_change_once() -> None:
    async with running_simulator(funded(mirror_advanced_on_user_order=True)) as sim:
        exchange = adapter(sim)
        try:
            async with collecting(exchange) as seen:
                await eventually(lambda: bool(exchange.streams) and exchange.streams[0].connected.is_set())
                await exchange.create_oco(OcoRequest(BTC, Side.SELL, D("0.1"), D("103000"), D("97000"),
                                                     "mirror-tp", "mirror-sl"))
                sim.set_price(BTC, "103500")
                await eventually(lambda: any(u.order.client_oid == "mirror-sl" and u.order.status.is_final
                                             for u in seen))
                await asyncio.sleep(0.2)
        finally:
            await exchange.close()
    take_profit = [u.order.status for u in seen if u.order.client_oid == "mirror-tp"]
    assert take_profit == [OrderStatus.ACTIVE, OrderStatus.FILLED]


# --- 2. cancelling OTO / OTOCO lists ------------------------------------------------------------------


async def test_an_otoco_is_cancelled_with_cancel_otoco(live: CryptoComExchange, sim: SimulatorHandle) -> None:
    placement = await live.create_otoco(otoco("cx"))

    await live.cancel_otoco(placement.list_id, BTC)

    assert [c.params for c in sim.calls_to("private/advanced/cancel-otoco")] == [{"list_id": placement.list_id}]
    assert {o.status for o in sim.engine.list_orders(placement.list_id)} == {OrderStatus.CANCELED}


async def test_cancel_oco_given_an_otoco_list_sends_cancel_otoco(live: CryptoComExchange,
                                                                  sim: SimulatorHandle) -> None:
    placement = await live.create_otoco(otoco("cy"))

    await live.cancel_oco(placement.list_id, BTC)

    assert sim.calls_to("private/advanced/cancel-oco") == []
    assert {o.status for o in sim.engine.list_orders(placement.list_id)} == {OrderStatus.CANCELED}


async def test_a_list_seen_as_otoco_on_a_read_is_cancelled_as_one(sim: SimulatorHandle) -> None:
    placer, other = adapter(sim), adapter(sim)        # `other` did not place it: it learns from a read
    try:
        placement = await placer.create_otoco(otoco("cz"))
        await other.open_orders()
        await other.cancel_oco(placement.list_id, BTC)
    finally:
        await placer.close()
        await other.close()
    assert [c.code for c in sim.calls_to("private/advanced/cancel-otoco")] == ["0"]


async def test_a_list_not_read_yet_is_cancelled_even_when_it_is_an_otoco(sim: SimulatorHandle) -> None:
    """After a restart nothing says the list is an OTOCO: cancel-oco answers "not found" (212), which
    must not pass for "already ended" while both exits are still on the book."""
    placer, other = adapter(sim), adapter(sim)
    try:
        placement = await placer.create_otoco(otoco("cw"))
        await other.cancel_oco(placement.list_id, BTC)
    finally:
        await placer.close()
        await other.close()
    assert [c.code for c in sim.calls_to("private/advanced/cancel-oco")] == ["212"]
    assert [c.code for c in sim.calls_to("private/advanced/cancel-otoco")] == ["0"]
    exits = [o for o in sim.engine.list_orders(placement.list_id) if o.side.value == "SELL"]
    assert {o.status for o in exits} == {OrderStatus.CANCELED}


# --- 3. ref_price_type ----------------------------------------------------------------------------------


async def test_every_trigger_leg_is_sent_with_mark_price(live: CryptoComExchange, sim: SimulatorHandle) -> None:
    await live.create_trigger_order(stop_loss("mp-1"))
    await live.create_oco(OcoRequest(BTC, Side.SELL, D("0.1"), D("103000"), D("97000"), "mp-tp", "mp-sl"))
    await live.create_otoco(otoco("mp-o"))

    legs = [c.params for c in sim.calls_to("private/advanced/create-order")]
    for method in ("private/advanced/create-oco", "private/advanced/create-otoco"):
        legs += [leg for c in sim.calls_to(method) for leg in c.params["order_list"]]
    triggers = [leg for leg in legs if leg["type"] in TRIGGER_TYPES]
    assert len(triggers) == 4 and {leg.get("ref_price_type") for leg in triggers} == {"MARK_PRICE"}
    assert all(c.code == "0" for c in sim.calls if c.method.startswith("private/advanced/create"))


# --- 4. the rate-limit table ----------------------------------------------------------------------------


async def test_a_burst_is_paced_by_its_own_methods_limit_and_never_refused(live: CryptoComExchange,
                                                                           sim: SimulatorHandle) -> None:
    await live.create_trigger_order(stop_loss("rl-1"))
    started = time.perf_counter()

    details = asyncio.gather(*[live.order_detail(client_oid="rl-1") for _ in range(7)])   # 3 per 100 ms
    await asyncio.sleep(0.01)
    placed = await live.create_order(OrderRequest(BTC, Side.BUY, OrderType.LIMIT, "rl-2", quantity=D("0.01"),
                                                  price=D("90000")))
    create_took = time.perf_counter() - started
    found = await details
    burst_took = time.perf_counter() - started

    assert all(o is not None and o.client_oid == "rl-1" for o in found)
    assert "42901" not in {c.code for c in sim.calls}
    assert burst_took >= 0.2                     # 7 calls at 3 per 100 ms need three windows
    assert create_took < 0.1 and placed.status is OrderStatus.NEW    # another method does not wait


async def test_ccxts_shared_bucket_is_off(live: CryptoComExchange) -> None:
    assert live.transport._client.enableRateLimit is False


# --- 5. merged reads ------------------------------------------------------------------------------------


async def test_open_orders_list_a_fired_trigger_once_under_its_own_id(live: CryptoComExchange,
                                                                       sim: SimulatorHandle) -> None:
    placed = await live.create_trigger_order(stop_loss("fired-1", kind=OrderType.STOP_LIMIT, price="96000"))
    sim.set_price(BTC, "94000")              # fires; its 96,000 limit rests on the book

    listed = [o for o in await live.open_orders() if o.client_oid == "fired-1"]

    assert [(o.order_id, o.order_type, o.status) for o in listed] == [
        (placed.order_id, OrderType.STOP_LIMIT, OrderStatus.ACTIVE)]
    assert len(sim.engine.open_orders()) == 1


async def test_history_lists_a_filled_oco_leg_once(live: CryptoComExchange, sim: SimulatorHandle) -> None:
    placement = await live.create_oco(OcoRequest(BTC, Side.SELL, D("0.1"), D("103000"), D("97000"),
                                                 "hist-tp", "hist-sl"))
    sim.set_price(BTC, "103500")
    now = sim.simulator.clock()

    page = await live.order_history(now - 60 * 10**9, now + 10**9)

    by_oid = {o.client_oid: o for o in page.orders}
    assert len(page.orders) == 2 and set(by_oid) == {"hist-tp", "hist-sl"}
    assert by_oid["hist-tp"].order_id == placement.take_profit_order_id
    assert by_oid["hist-tp"].list_id == placement.list_id and by_oid["hist-tp"].status is OrderStatus.FILLED


async def test_a_lookup_by_client_oid_gives_the_advanced_identity(live: CryptoComExchange,
                                                                   sim: SimulatorHandle) -> None:
    placed = await live.create_trigger_order(stop_loss("fired-2", kind=OrderType.STOP_LIMIT, price="96000"))
    sim.set_price(BTC, "94000")
    other = adapter(sim)               # knows nothing yet: it meets the regular list's face first
    try:
        [plain] = [o for o in await other.open_orders() if o.client_oid == "fired-2"]
        found = await other.order_detail(client_oid="fired-2")
    finally:
        await other.close()
    assert plain.order_id == placed.order_id
    assert found is not None and found.order_id == placed.order_id


# --- 6. codes 229 and 43005 -----------------------------------------------------------------------------


async def test_a_trigger_beyond_twice_the_mark_is_an_invalid_trigger_price(live: CryptoComExchange) -> None:
    with pytest.raises(InvalidOrder) as refused:
        await live.create_trigger_order(TriggerOrderRequest(BTC, Side.SELL, OrderType.TAKE_PROFIT, "far-1",
                                                            D("0.1"), D("250000")))
    assert refused.value.code == "229" and "not valid" in refused.value.reason


def test_229_and_43005_are_worded_as_the_reference_defines_them() -> None:
    assert "not valid" in CODES["229"].reason and "too far" in CODES["229"].reason
    assert CODES["43005"].message_key is not None and "cancelled" in CODES["43005"].message_key


# --- 7. an answer that is not the exchange's ------------------------------------------------------------


@pytest.mark.parametrize("style", ["truncated", "html", "reset"])
async def test_a_garbled_answer_to_a_create_is_an_unknown_outcome_resolved_by_client_oid(
        live: CryptoComExchange, sim: SimulatorHandle, style: str) -> None:
    sim.faults.garble("private/create-order", style)

    placed = await live.create_order(OrderRequest(BTC, Side.BUY, OrderType.LIMIT, f"garbled-{style}",
                                                  quantity=D("0.01"), price=D("90000")))

    assert placed.client_oid == f"garbled-{style}" and placed.status is OrderStatus.ACTIVE
    assert len(sim.calls_to("private/create-order")) == 1          # looked up, not sent again
    assert sim.calls_to("private/get-order-detail")[0].params == {"client_oid": f"garbled-{style}"}


async def test_a_garbled_answer_to_an_advanced_create_is_found_too(live: CryptoComExchange,
                                                                  sim: SimulatorHandle) -> None:
    sim.faults.garble("private/advanced/create-order", "html")

    placed = await live.create_trigger_order(stop_loss("garbled-sl"))

    assert placed.client_oid == "garbled-sl" and placed.status is OrderStatus.PENDING
    assert len(sim.calls_to("private/advanced/create-order")) == 1


# --- the order stream hands on the newest state -----------------------------------------------------


async def test_states_superseded_while_the_consumer_was_busy_are_skipped(live: CryptoComExchange,
                                                                        sim: SimulatorHandle) -> None:
    updates = live.order_updates()
    first = asyncio.ensure_future(anext(updates))
    try:
        await eventually(lambda: bool(live.streams) and live.streams[0].connected.is_set())
        await live.create_trigger_order(stop_loss("burst", kind=OrderType.STOP_LIMIT, price="94000"))
        assert (await first).order.status is OrderStatus.PENDING
        # The consumer is busy (it does not ask) while the stop fires and fills: ACTIVE, then FILLED.
        sim.set_price(BTC, "94500")
        assert [o.status for o in sim.engine.open_orders()] == []
        await asyncio.sleep(0.3)                # both pushes have arrived meanwhile

        newest = await anext(updates)
    finally:
        await updates.aclose()
    assert (newest.order.client_oid, newest.order.status) == ("burst", OrderStatus.FILLED)


async def test_a_list_method_the_exchange_lacks_is_not_asked_again_for_a_while(live: CryptoComExchange,
                                                                             sim: SimulatorHandle) -> None:
    sim.faults.force_code("private/advanced/create-oco", "40002", times=None)
    for n in range(3):
        with pytest.raises(NativeOcoUnavailable):
            await live.create_oco(OcoRequest(BTC, Side.SELL, D("0.1"), D("103000"), D("97000"), f"no-{n}-tp",
                                             f"no-{n}-sl"))

    assert len(sim.calls_to("private/advanced/create-oco")) == 1


async def test_a_consumer_stopped_while_waiting_leaves_no_task_behind(live: CryptoComExchange) -> None:
    consumer = asyncio.ensure_future(anext(live.order_updates()))
    await eventually(lambda: bool(live.streams) and live.streams[0].connected.is_set())
    await asyncio.sleep(0.05)                   # waiting for the first update
    consumer.cancel()
    await asyncio.gather(consumer, return_exceptions=True)
    await asyncio.sleep(0)
    # The wait for the next update went with it (it used to stay pending, destroyed at the loop's close).
    left = [t for t in asyncio.all_tasks() if "Queue.get" in repr(t.get_coro())]
    assert left == []
