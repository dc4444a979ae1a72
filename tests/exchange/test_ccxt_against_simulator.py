"""ccxt's own crypto.com client (the library the live adapter is built on) against the simulator:
if ccxt cannot talk to it, the simulator is not a faithful stand-in for the exchange."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import ccxt.async_support as ccxt
import pytest

from bot.devtools.simulator_harness import SimulatorHandle, running_simulator
from bot.exchange.simulator.core import SimulatorConfig
from bot.exchange.simulator.market import bundled_candles

D = Decimal


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorHandle]:
    config = SimulatorConfig(candles=bundled_candles(), balances={"USDT": D(100000), "BTC": D(1)})
    async with running_simulator(config) as handle:
        yield handle


@pytest.fixture
async def client(sim: SimulatorHandle) -> AsyncIterator[ccxt.cryptocom]:
    exchange = ccxt.cryptocom({"apiKey": sim.api_key, "secret": sim.api_secret, "enableRateLimit": True})
    exchange.urls["api"] = {name: sim.rest_url for name in exchange.urls["api"]}
    try:
        yield exchange
    finally:
        await exchange.close()


async def test_ccxt_loads_markets_with_tick_precision_and_currencies(client: ccxt.cryptocom,
                                                                     sim: SimulatorHandle) -> None:
    markets = await client.load_markets()

    assert markets["BTC/USDT"]["id"] == "BTC_USDT"
    assert markets["BTC/USDT"]["precision"]["price"] == 0.01
    assert markets["BTC/USDT"]["precision"]["amount"] == 0.00001
    # With keys set, ccxt also asks for currency networks (signed); the simulator must answer it.
    assert [c.code for c in sim.calls_to("private/get-currency-networks")] == ["0"]


async def test_ccxt_reads_ticker_and_candles(client: ccxt.cryptocom) -> None:
    ticker = await client.fetch_ticker("BTC/USDT")
    candles = await client.fetch_ohlcv("BTC/USDT", "1h", limit=24)

    assert ticker["last"] == 100000
    assert len(candles) == 24
    assert [c[0] for c in candles] == sorted(c[0] for c in candles)


async def test_ccxt_balance_is_quantity_minus_reserved(client: ccxt.cryptocom) -> None:
    await client.create_order("BTC/USDT", "limit", "buy", 0.1, 90000)

    balance = await client.fetch_balance()

    assert balance["USDT"]["total"] == 100000
    assert balance["USDT"]["used"] == pytest.approx(9000, rel=0.01)
    assert balance["BTC"]["free"] == 1


async def test_ccxt_places_lists_and_cancels_a_limit_order(client: ccxt.cryptocom, sim: SimulatorHandle) -> None:
    # ccxt 4.5.90 drops a unified `clientOrderId`; the exchange's own `client_oid` passes through.
    placed = await client.create_order("BTC/USDT", "limit", "buy", 0.01, 95000, {"client_oid": "ccxt-1"})

    open_orders = await client.fetch_open_orders("BTC/USDT")
    await client.cancel_order(placed["id"], "BTC/USDT")

    assert [o["id"] for o in open_orders] == [placed["id"]]
    assert open_orders[0]["clientOrderId"] == "ccxt-1"
    assert sim.engine.get(order_id=placed["id"]).status.value == "CANCELED"


async def test_ccxt_fetches_order_history(client: ccxt.cryptocom, sim: SimulatorHandle) -> None:
    seeded = sim.seed_history(5, start_ns=sim.simulator.clock() - 3_600 * 10**9)

    history = await client.fetch_orders("BTC/USDT")

    assert {o["id"] for o in history} == {o.order_id for o in seeded}
    assert {o["status"] for o in history} == {"closed", "canceled"}
