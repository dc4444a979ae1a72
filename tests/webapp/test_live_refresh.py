"""Live refresh in a real browser: the whole application (composition root, simulator behind the live
adapter with its user WebSocket, Bot API emulator), the open-orders page open in Chromium; a buy
fills on the exchange and the page shows it by itself, within 2 s."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from bot.compose import Application, build_application
from bot.domain.orders import OrderType, Side
from bot.exchange.base import OrderRequest
from bot.sandbox import BotApiEmulator
from bot.settings import load_settings
from tests.services.sim_exchange import SimulatedExchange, simulated_exchange
from tests.webapp.browser import Console, chromium, open_page, screenshot
from tests.webapp.harness import ALLOWED, TOKEN

pytestmark = pytest.mark.browser
D = Decimal


@pytest.fixture
async def running(db: str, aiohttp_server, monkeypatch) -> AsyncIterator[tuple[Application, SimulatedExchange]]:
    emulator = BotApiEmulator()
    server = await aiohttp_server(emulator.make_app())
    for name, value in {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": str(server.make_url("")),
                        "TELEGRAM_ALLOWED_USERS": str(ALLOWED), "DATABASE_URL": db, "WEBAPP_PORT": "0",
                        "DEFAULT_LANGUAGE": "en"}.items():
        monkeypatch.setenv(name, value)
    async with simulated_exchange({"USDT": D(100000)}, websocket=True) as exchange:
        app = await build_application(load_settings(), exchange=exchange.adapter)
        await app.start()
        try:
            yield app, exchange
        finally:
            await app.shutdown()


async def test_a_fill_on_the_exchange_shows_on_the_open_page_within_2_s(running) -> None:
    app, exchange = running
    await app.services.sync.run_cycle()
    await exchange.create_order(OrderRequest(symbol="BTC_USDT", side=Side.BUY, order_type=OrderType.LIMIT,
                                             client_oid="hand-buy", quantity=D("0.01"), price=D(99000)))
    await app.services.sync.run_cycle()
    local = app.local_mini_app_url()            # what `make run` prints without a public HTTPS address
    assert local is not None and app.web_url is not None and local.startswith(f"{app.web_url}/app/#tgWebAppData=")
    console = Console()
    async with chromium() as browser:
        page = await open_page(browser, local, console)
        assert await page.get_attribute("body", "data-state") == "ready"
        await page.click("nav.tabs a[href='/app/orders/open']")     # the launch data outlives navigation
        await page.wait_for_selector("[data-page=orders-open]")
        buy_row = "table[data-open-orders] tr:has-text('Buy')"
        assert await page.locator(buy_row).count() == 1
        await page.wait_for_selector("body[data-live=on]", timeout=5000)
        filled_at = time.perf_counter()
        exchange.set_price("BTC_USDT", D(98500))                  # the buy fills on the exchange
        await page.wait_for_selector(buy_row, state="detached", timeout=2000)
        shown_after = time.perf_counter() - filled_at
        await screenshot(page, "open-after-fill")
    assert shown_after <= 2.0
    assert console.errors == []
