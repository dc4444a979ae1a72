"""The whole application, built in one call by the composition root, in process: SQLite, the crypto.com
simulator through the live adapter, the Telegram Bot API emulator. A buy fills on the exchange; the
user reads it in Telegram."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from bot.compose import Application, build_application
from bot.domain.orders import OrderType, Side
from bot.exchange.base import OrderRequest
from bot.sandbox import BotApiEmulator
from bot.settings import load_settings
from tests.services.sim_exchange import SimulatedExchange, simulated_exchange

ALLOWED = 4242
D = Decimal


@pytest.fixture
async def running(db: str, aiohttp_server, monkeypatch) -> AsyncIterator[tuple[Application, SimulatedExchange,
                                                                                BotApiEmulator]]:
    emulator = BotApiEmulator()
    server = await aiohttp_server(emulator.make_app())
    for name, value in {"TELEGRAM_BOT_TOKEN": "123456:TEST-TOKEN", "TELEGRAM_API_URL": str(server.make_url("")),
                        "TELEGRAM_ALLOWED_USERS": str(ALLOWED), "DATABASE_URL": db, "WEBAPP_PORT": "0",
                        "DEFAULT_LANGUAGE": "en"}.items():
        monkeypatch.setenv(name, value)
    async with simulated_exchange({"USDT": D(100000)}, websocket=True) as exchange:
        app = await build_application(load_settings(), exchange=exchange.adapter)
        await app.start()
        try:
            yield app, exchange, emulator
        finally:
            await app.shutdown()


async def test_a_buy_fill_reaches_the_user_through_the_whole_application(running) -> None:
    app, exchange, emulator = running
    await emulator.wait_for_call("getUpdates")
    await app.services.sync.run_cycle()                     # the bot begins watching the account
    buy = await exchange.create_order(OrderRequest(symbol="BTC_USDT", side=Side.BUY, order_type=OrderType.LIMIT,
                                                   client_oid="hand-buy", quantity=D("0.01"), price=D(100000)))
    exchange.set_price("BTC_USDT", D(100000))              # it fills on the exchange

    async def told() -> list[str]:
        while True:
            texts = [str(m.get("text", "")) for m in emulator.bot_messages(ALLOWED)]
            if any("Protection placed" in t for t in texts):
                return texts
            await asyncio.sleep(0.05)

    texts = await asyncio.wait_for(told(), 15)
    assert any(buy.order_id in t or "BUY" in t for t in texts)
    placed = next(t for t in texts if "Protection placed" in t)
    assert "97,000" in placed or "97000" in placed
