"""The whole application, built in one call by the composition root, in process: SQLite, the crypto.com
simulator through the live adapter, the Telegram Bot API emulator. A buy fills on the exchange; the
user reads it in Telegram."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from bot.compose import Application, build_application
from bot.db.repositories import SyncCursorRepository
from bot.domain.orders import OrderType, Side
from bot.exchange.base import OrderRequest
from bot.sandbox import BotApiEmulator
from bot.settings import load_settings
from tests.services.sim_exchange import SimulatedExchange, simulated_exchange
from tests.services.sync_harness import eventually

ALLOWED = 4242
D = Decimal
DAY = 86_400 * 10**9


async def telegram_emulator(db: str, aiohttp_server, monkeypatch) -> BotApiEmulator:  # type: ignore[no-untyped-def]
    emulator = BotApiEmulator()
    server = await aiohttp_server(emulator.make_app())
    for name, value in {"TELEGRAM_BOT_TOKEN": "123456:TEST-TOKEN", "TELEGRAM_API_URL": str(server.make_url("")),
                        "TELEGRAM_ALLOWED_USERS": str(ALLOWED), "DATABASE_URL": db, "WEBAPP_PORT": "0",
                        "DEFAULT_LANGUAGE": "en"}.items():
        monkeypatch.setenv(name, value)
    return emulator


@pytest.fixture
async def running(db: str, aiohttp_server, monkeypatch) -> AsyncIterator[tuple[Application, SimulatedExchange,
                                                                                BotApiEmulator]]:
    emulator = await telegram_emulator(db, aiohttp_server, monkeypatch)
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


async def test_cycles_stay_fast_while_the_backfill_walks_and_shutdown_is_prompt(db: str, aiohttp_server,
                                                                               monkeypatch) -> None:
    """180 days of history at the real pace (1 history request a second) take minutes to walk: the
    back-fill runs beside the cycles, a cycle takes about a second meanwhile, and shutdown in the
    middle of the walk takes well under 3 s, the walk resuming later where it stopped."""
    emulator = await telegram_emulator(db, aiohttp_server, monkeypatch)
    async with simulated_exchange({"USDT": D(1000)}) as exchange:
        now = time.time_ns()
        exchange.seed_history(2000, symbol="BTC_USDT", start_ns=now - 170 * DAY, end_ns=now - DAY)
        app = await build_application(load_settings(), exchange=exchange.adapter)
        await app.start()
        shut = False
        try:
            await emulator.wait_for_call("getUpdates")

            async def walking() -> bool:
                return exchange.exchange_calls("private/get-order-history") >= 2
            await eventually(walking, timeout=10)
            for _ in range(2):
                started = time.perf_counter()
                report = await app.services.sync.run_cycle()
                assert time.perf_counter() - started < 1.6
                assert report.history_calls == 1
            started = time.perf_counter()
            shut = True
            await app.shutdown()
            assert time.perf_counter() - started < 3
        finally:
            if not shut:
                await app.shutdown()
        cursor = await SyncCursorRepository("live").get("backfill")
        assert cursor is not None and cursor.data["done"] is False
        assert cursor.value < cursor.data["upper_ns"]             # progress kept for the next start
