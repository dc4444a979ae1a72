"""A fill reaches the user within one polling round, whatever placed the order, when the order stream
has no WebSocket (EXCHANGE_WS_URL empty: polling only). The whole application, in process: the
simulator through the live adapter, the Telegram Bot API emulator; the sync job never runs on its
own here, so only the stream can tell."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from bot.compose import Application, build_application
from bot.domain.orders import OrderType, Side
from bot.exchange.base import OrderRequest
from bot.exchange.cryptocom import CryptoComExchange
from bot.sandbox import BotApiEmulator
from bot.settings import load_settings
from tests.app.test_application import ALLOWED, telegram_emulator
from tests.services.sim_exchange import TEST_OPTIONS, SimulatedExchange, simulated_exchange
from tests.services.sync_harness import eventually

D = Decimal
POLL_SECONDS = 2.0


@pytest.fixture
async def polling_app(db: str, aiohttp_server, monkeypatch) -> AsyncIterator[tuple[Application, SimulatedExchange,
                                                                                    BotApiEmulator]]:
    emulator = await telegram_emulator(db, aiohttp_server, monkeypatch)
    monkeypatch.setenv("SYNC_INTERVAL_SECONDS", "86400")
    async with simulated_exchange({"USDT": D(100000)}, websocket=False,
                                  poll_interval_seconds=POLL_SECONDS) as exchange:
        app = await build_application(load_settings(), exchange=exchange.adapter)
        await app.start()
        try:
            await emulator.wait_for_call("getUpdates")
            await app.services.sync.run_cycle()                 # the bot begins watching the account
            yield app, exchange, emulator
        finally:
            await app.shutdown()


async def told(emulator: BotApiEmulator, text: str, timeout: float = 15) -> float:
    """When (monotonic) a message to the user containing `text` was first seen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(text in str(m.get("text", "")) for m in emulator.bot_messages(ALLOWED)):
            return time.monotonic()
        await asyncio.sleep(0.02)
    raise TimeoutError(f"no message with {text!r}: {[m.get("text") for m in emulator.bot_messages(ALLOWED)]}")


async def just_polled(exchange: SimulatedExchange) -> None:
    """Wait for the stream's next polling round to go by (the acts that follow then fall between two)."""
    before = exchange.exchange_calls("private/get-open-orders")

    async def polled() -> bool:
        return exchange.exchange_calls("private/get-open-orders") > before
    await eventually(polled, timeout=POLL_SECONDS + 1)


async def test_a_take_profit_placed_and_filled_between_two_rounds_is_told_within_one(polling_app) -> None:
    _, exchange, emulator = polling_app
    await exchange.create_order(OrderRequest(symbol="BTC_USDT", side=Side.BUY, order_type=OrderType.LIMIT,
                                             client_oid="hand-buy", quantity=D("0.01"), price=D(100000)))
    exchange.set_price("BTC_USDT", D(100000))                  # fills; the stream's round protects it
    await told(emulator, "Protection placed")
    # The take-profit went out after the round that saw the buy fill; it fills before the next one,
    # so no round ever lists it open.
    exchange.set_price("BTC_USDT", D(103000))
    filled_at = time.monotonic()
    seen_at = await told(emulator, "Take-profit filled")
    assert seen_at - filled_at <= POLL_SECONDS + 1


async def test_an_order_placed_by_hand_and_known_open_is_told_within_one_round(polling_app) -> None:
    app, exchange, emulator = polling_app
    elsewhere = CryptoComExchange(exchange.sim.api_key, exchange.sim.api_secret, api_url=exchange.sim.rest_url,
                                  ws_url="", live_trading=True, options=TEST_OPTIONS)
    try:
        await just_polled(exchange)
        # Placed on the exchange's own site (another client), seen open by the sync, filled, all
        # between two of the stream's rounds.
        order = await elsewhere.create_order(OrderRequest(symbol="BTC_USDT", side=Side.BUY,
                                                          order_type=OrderType.LIMIT, client_oid="web-buy",
                                                          quantity=D("0.002"), price=D(99000)))
        report = await app.services.sync.run_cycle()
        assert report.open_orders == 1
        exchange.set_price("BTC_USDT", D(99000))
        filled_at = time.monotonic()
        assert exchange.orders[order.order_id].status.value == "FILLED"
        seen_at = await told(emulator, "Order filled")
        assert seen_at - filled_at <= POLL_SECONDS + 1
    finally:
        await elsewhere.close()
