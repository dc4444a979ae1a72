"""What the live adapter sends is always on tick, never more than asked, rounded the safe way:
checked on the pure request builders for any instrument, and on the simulator's recorded calls
for what actually went over the wire."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.devtools.simulator_harness import SimulatorHandle, running_simulator
from bot.domain.instrument import Instrument
from bot.domain.orders import OrderType, Side
from bot.exchange.base import OcoRequest, OrderRequest, OtocoRequest, TriggerOrderRequest
from bot.exchange.cryptocom import CryptoComExchange, wire
from bot.exchange.errors import ExchangeError, InvalidOrder
from tests.exchange.cryptocom_helpers import adapter, funded

D = Decimal
PLAIN = re.compile(r"^\d+(\.\d+)?$")
TICKS = [D("0.01"), D("0.00001"), D("0.0001"), D("0.5"), D(1), D(5), D("0.000001"), D("0.25")]

ticks = st.sampled_from(TICKS)
sides = st.sampled_from([Side.BUY, Side.SELL])
quantities = st.decimals(min_value=D("0.000001"), max_value=D(100000), places=8, allow_nan=False,
                         allow_infinity=False)
prices = st.decimals(min_value=D("0.001"), max_value=D(1000000), places=6, allow_nan=False, allow_infinity=False)


def instrument(price_tick: Decimal, qty_tick: Decimal) -> Instrument:
    return Instrument("ABC_USDT", "ABC", "USDT", price_tick, qty_tick)


def scalars(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from scalars(item)
    elif isinstance(value, list):
        for item in value:
            yield from scalars(item)
    else:
        yield value


def assert_wire_safe(params: dict[str, Any]) -> None:
    """Only strings on the wire; numbers plain (no exponent, no trailing zeros games)."""
    for value in scalars(params):
        assert isinstance(value, str) and not isinstance(value, bool), value
    for leg in params.get("order_list", [params]):
        for key in ("quantity", "price", "ref_price", "notional"):
            if key in leg:
                assert PLAIN.match(leg[key]), leg[key]


def assert_quantity(sent: str, asked: Decimal, tick: Decimal) -> None:
    value = D(sent)
    assert value % tick == 0
    assert 0 < value <= asked
    assert asked - value < tick


def assert_price(sent: str, asked: Decimal, tick: Decimal, *, down: bool) -> None:
    value = D(sent)
    assert value % tick == 0
    assert abs(value - asked) < tick
    assert (value <= asked) if down else (value >= asked)


def rounds_to_zero(price: Decimal, tick: Decimal, *, down: bool) -> bool:
    """Only a price rounded down can vanish; rounded up it becomes one tick, which is sendable."""
    return down and price < tick


@settings(max_examples=300)
@given(ticks, ticks, sides, quantities, prices)
def test_limit_orders_never_exceed_the_quantity_and_never_pay_more(price_tick: Decimal, qty_tick: Decimal,
                                                                   side: Side, quantity: Decimal,
                                                                   price: Decimal) -> None:
    inst = instrument(price_tick, qty_tick)
    request = OrderRequest(inst.symbol, side, OrderType.LIMIT, "oid-1", quantity=quantity, price=price)
    if quantity < qty_tick or rounds_to_zero(price, price_tick, down=side is Side.BUY):
        with pytest.raises(InvalidOrder):
            wire.order_params(inst, request)
        return

    params = wire.order_params(inst, request)

    assert_wire_safe(params)
    assert_quantity(params["quantity"], quantity, qty_tick)
    # BUY rounds down (never pays more), SELL rounds up (never sells for less).
    assert_price(params["price"], price, price_tick, down=side is Side.BUY)


@settings(max_examples=300)
@given(ticks, ticks, sides, st.sampled_from([t for t in OrderType if t.is_trigger]), quantities, prices, prices)
def test_trigger_prices_round_so_they_fire_no_earlier_and_take_no_less(
        price_tick: Decimal, qty_tick: Decimal, side: Side, order_type: OrderType, quantity: Decimal,
        trigger: Decimal, limit: Decimal) -> None:
    inst = instrument(price_tick, qty_tick)
    request = TriggerOrderRequest(inst.symbol, side, order_type, "oid-2", quantity, trigger, limit)
    stop = order_type in (OrderType.STOP_LOSS, OrderType.STOP_LIMIT)
    has_limit = order_type in (OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT)
    if quantity < qty_tick or rounds_to_zero(trigger, price_tick, down=(side is Side.SELL) == stop) or (
            has_limit and rounds_to_zero(limit, price_tick, down=side is Side.BUY)):
        with pytest.raises(InvalidOrder):
            wire.trigger_params(inst, request)
        return

    params = wire.trigger_params(inst, request)

    assert_wire_safe(params)
    assert_quantity(params["quantity"], quantity, qty_tick)
    # A SELL stop rounds down (triggers no earlier), a SELL take-profit up (takes no less); BUY mirrors.
    assert_price(params["ref_price"], trigger, price_tick, down=(side is Side.SELL) == stop)
    if has_limit:
        assert_price(params["price"], limit, price_tick, down=side is Side.BUY)
    else:
        assert "price" not in params


@settings(max_examples=200)
@given(ticks, ticks, quantities, prices, prices)
def test_oco_legs_share_a_floored_quantity_and_round_safely(price_tick: Decimal, qty_tick: Decimal,
                                                            quantity: Decimal, take_profit: Decimal,
                                                            stop: Decimal) -> None:
    inst = instrument(price_tick, qty_tick)
    request = OcoRequest(inst.symbol, Side.SELL, quantity, take_profit, stop, "oco-tp", "oco-sl")
    if quantity < qty_tick or rounds_to_zero(stop, price_tick, down=True):
        with pytest.raises(InvalidOrder):
            wire.oco_params(inst, request)
        return

    params = wire.oco_params(inst, request)

    assert_wire_safe(params)
    limit_leg, stop_leg = params["order_list"]
    assert (limit_leg["type"], stop_leg["type"]) == ("LIMIT", "STOP_LOSS")
    assert limit_leg["quantity"] == stop_leg["quantity"]
    assert_quantity(limit_leg["quantity"], quantity, qty_tick)
    assert_price(limit_leg["price"], take_profit, price_tick, down=False)
    assert_price(stop_leg["ref_price"], stop, price_tick, down=True)


@settings(max_examples=200)
@given(ticks, ticks, quantities, prices, prices, prices)
def test_otoco_exits_never_sell_more_than_the_entry_buys(price_tick: Decimal, qty_tick: Decimal, quantity: Decimal,
                                                         entry_price: Decimal, stop: Decimal,
                                                         take_profit: Decimal) -> None:
    inst = instrument(price_tick, qty_tick)
    entry = OrderRequest(inst.symbol, Side.BUY, OrderType.LIMIT, "oto-e", quantity=quantity, price=entry_price)
    request = OtocoRequest(entry, stop, take_profit, "oto-sl", "oto-tp")
    if quantity < qty_tick or rounds_to_zero(entry_price, price_tick, down=True) or rounds_to_zero(
            stop, price_tick, down=True):
        with pytest.raises(InvalidOrder):
            wire.otoco_params(inst, request)
        return

    params = wire.otoco_params(inst, request)

    assert_wire_safe(params)
    entry_leg, stop_leg, profit_leg = params["order_list"]
    assert entry_leg["quantity"] == stop_leg["quantity"] == profit_leg["quantity"]
    assert_quantity(entry_leg["quantity"], quantity, qty_tick)
    assert_price(entry_leg["price"], entry_price, price_tick, down=True)
    assert_price(stop_leg["ref_price"], stop, price_tick, down=True)
    assert_price(profit_leg["ref_price"], take_profit, price_tick, down=False)
    assert_price(profit_leg["price"], take_profit, price_tick, down=False)


@settings(max_examples=200)
@given(ticks, st.decimals(min_value=D("0.001"), max_value=D(1000000), places=6))
def test_market_buy_by_amount_never_spends_more_than_asked(price_tick: Decimal, notional: Decimal) -> None:
    inst = instrument(price_tick, D("0.0001"))
    request = OrderRequest(inst.symbol, Side.BUY, OrderType.MARKET, "mkt-n", notional=notional)
    if notional < price_tick:
        with pytest.raises(InvalidOrder):
            wire.order_params(inst, request)
        return

    params = wire.order_params(inst, request)

    assert_wire_safe(params)
    assert "price" not in params and "quantity" not in params
    assert_price(params["notional"], notional, price_tick, down=True)


# --- what actually went over the wire ------------------------------------------------------------


@pytest.fixture(scope="module")
def wire_rig() -> Iterator[tuple[asyncio.AbstractEventLoop, SimulatorHandle, CryptoComExchange]]:
    """One simulator and adapter for many examples (hypothesis runs each example synchronously)."""
    loop = asyncio.new_event_loop()
    context = running_simulator(funded(rate_limits=False, balances={"USDT": D(10**12), "BTC": D(10**6)}))
    sim = loop.run_until_complete(context.__aenter__())
    exchange = adapter(sim)
    try:
        yield loop, sim, exchange
    finally:
        loop.run_until_complete(exchange.close())
        loop.run_until_complete(context.__aexit__(None, None, None))
        loop.close()


_oids = itertools.count()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sides, st.decimals(min_value=D("0.00001"), max_value=D(5), places=9),
       st.decimals(min_value=D(60000), max_value=D(140000), places=5))
def test_recorded_limit_orders_are_on_tick_and_safe(wire_rig: tuple[asyncio.AbstractEventLoop, SimulatorHandle,
                                                                    CryptoComExchange],
                                                    side: Side, quantity: Decimal, price: Decimal) -> None:
    loop, sim, exchange = wire_rig
    request = OrderRequest("BTC_USDT", side, OrderType.LIMIT, f"prop-{next(_oids)}", quantity=quantity, price=price)
    with contextlib.suppress(ExchangeError):     # refused or not, what was sent is what is checked
        loop.run_until_complete(exchange.create_order(request))

    [call] = [c for c in sim.calls_to("private/create-order") if c.params.get("client_oid") == request.client_oid]
    assert_wire_safe(call.params)
    assert_quantity(call.params["quantity"], quantity, D("0.00001"))
    assert_price(call.params["price"], price, D("0.01"), down=side is Side.BUY)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from([t for t in OrderType if t.is_trigger]), st.decimals(min_value=D("0.00001"), max_value=D(1),
                                                                             places=9),
       st.decimals(min_value=D(50000), max_value=D(99000), places=5),
       st.decimals(min_value=D(101000), max_value=D(150000), places=5))
def test_recorded_trigger_orders_are_on_tick_and_safe(wire_rig: tuple[asyncio.AbstractEventLoop, SimulatorHandle,
                                                                      CryptoComExchange],
                                                      order_type: OrderType, quantity: Decimal, below: Decimal,
                                                      above: Decimal) -> None:
    loop, sim, exchange = wire_rig
    stop = order_type in (OrderType.STOP_LOSS, OrderType.STOP_LIMIT)
    trigger = below if stop else above      # a SELL stop under the market, a take-profit over it
    oid = f"prop-t-{next(_oids)}"
    request = TriggerOrderRequest("BTC_USDT", Side.SELL, order_type, oid, quantity, trigger, trigger)
    with contextlib.suppress(ExchangeError):
        loop.run_until_complete(exchange.create_trigger_order(request))

    [call] = [c for c in sim.calls_to("private/advanced/create-order") if c.params.get("client_oid") == oid]
    assert not [c for c in sim.calls_to("private/create-order") if c.params.get("client_oid") == oid]
    assert_wire_safe(call.params)
    assert_quantity(call.params["quantity"], quantity, D("0.00001"))
    assert_price(call.params["ref_price"], trigger, D("0.01"), down=stop)
