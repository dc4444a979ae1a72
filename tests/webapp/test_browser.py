"""The Mini App in a real browser (Debian's Chromium through Playwright), as Telegram opens it: every
page in both languages and both themes at 360 px, edits that persist, the whole history paged, the
401 page, no console errors, and a fill on the exchange showing up by itself."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest

from bot.db.models import WatchlistEntry
from tests.webapp.browser import Console, address, chromium, open_page, screenshot
from tests.webapp.harness import (
    build_app,
    init_data,
    seed_executed,
    seed_group,
    seed_signal,
    seed_snapshots,
    seed_watchlist,
)

pytestmark = pytest.mark.browser
D = Decimal
PAGES = {"dashboard": "", "open": "orders/open", "executed": "orders/executed", "portfolio": "portfolio",
         "watchlist": "watchlist", "signals": "signals", "coin": "signals/BTC_USDT"}
TITLES = {"es": {"dashboard": "Resumen", "executed": "Órdenes ejecutadas"},
          "en": {"dashboard": "Summary", "executed": "Executed orders"}}


async def seed_everything() -> None:
    await seed_executed(120)
    await seed_group("BTC_USDT")
    await seed_watchlist("BTC_USDT", "ETH_USDT")
    await seed_signal("BTC_USDT", "BUY")
    await seed_snapshots([D(1000), D(1010), D(990), D(1020), D(1100)], positions=[
        {"asset": "USDT", "quantity": "90", "price": "1", "usd_value": "90"},
        {"asset": "BTC", "quantity": "0.01", "price": "101000", "usd_value": "1010"}])


async def test_every_page_in_both_languages_and_themes(exchange, aiohttp_server) -> None:
    await seed_everything()
    server = await aiohttp_server(build_app(exchange))
    base = str(server.make_url("")).rstrip("/")
    console = Console()
    async with chromium() as browser:
        for language in ("es", "en"):
            for theme in ("light", "dark"):
                for name, path in PAGES.items():
                    page = await open_page(browser, address(base, init_data(language=language), path, theme),
                                           console)
                    assert await page.get_attribute("body", "data-state") == "ready", (language, theme, name)
                    assert await page.get_attribute("html", "lang") == language
                    if name in TITLES[language]:
                        assert await page.inner_text("h1") == TITLES[language][name]
                    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
                    assert background == ("rgb(23, 33, 43)" if theme == "dark" else "rgb(255, 255, 255)")
                    width = await page.evaluate("document.documentElement.scrollWidth")
                    assert width <= 360, f"{name} is {width} px wide at 360 px"
                    back_visible = await page.is_visible("#standin-back")
                    assert back_visible == (name != "dashboard")
                    await screenshot(page, f"{name}-{language}-{theme}")
                    await page.close()
    assert console.errors == []


async def test_a_watchlist_toggle_persists_across_a_reload(exchange, aiohttp_server) -> None:
    await seed_watchlist("BTC_USDT")
    server = await aiohttp_server(build_app(exchange))
    base = str(server.make_url("")).rstrip("/")
    console = Console()
    async with chromium() as browser:
        page = await open_page(browser, address(base, init_data(), "watchlist"), console)
        toggle = 'form[data-watch="BTC_USDT"] input[name="trade_enabled"]'
        assert not await page.is_checked(toggle)
        await page.click(toggle)
        await page.wait_for_selector('form[data-watch="BTC_USDT"] .status.ok, form[data-watch="BTC_USDT"] '
                                     'input[name="trade_enabled"]:checked', timeout=5000)
        await page.wait_for_function("document.body.dataset.loads >= '1'")
        for _ in range(50):
            if (await WatchlistEntry.get(symbol="BTC_USDT")).trade_enabled:
                break
            await asyncio.sleep(0.05)
        await page.reload()
        await page.wait_for_selector("body[data-state=ready]")
        assert await page.is_checked(toggle)
        amount = 'form[data-watch="BTC_USDT"] input[name="amount_usd"]'
        await page.fill(amount, "-5")
        await page.dispatch_event(amount, "change")
        await page.wait_for_selector('form[data-watch="BTC_USDT"] .status.error')
        assert (await WatchlistEntry.get(symbol="BTC_USDT")).amount_usd == D(100)
        await screenshot(page, "watchlist-refused")
    assert [e for e in console.errors if "400" not in e] == []


async def test_paging_through_1000_executed_orders(exchange, aiohttp_server) -> None:
    await seed_executed(1000)
    server = await aiohttp_server(build_app(exchange))
    base = str(server.make_url("")).rstrip("/")
    console = Console()
    seen: list[str] = []
    async with chromium() as browser:
        page = await open_page(browser, address(base, init_data(), "orders/executed?limit=100"), console)
        while True:
            rows = await page.locator("table[data-executed] tbody tr").count()
            seen.append(str(rows))
            if await page.locator("[data-next]").count() == 0:
                break
            await page.click("[data-next]")
            await page.wait_for_selector("body[data-state=ready]")
        assert await page.is_visible("[data-last]")
    assert sum(int(n) for n in seen) == 1000 and len(seen) == 10
    assert console.errors == []


async def test_forged_init_data_shows_the_401_page_and_no_data(exchange, aiohttp_server) -> None:
    await seed_everything()
    server = await aiohttp_server(build_app(exchange))
    base = str(server.make_url("")).rstrip("/")
    forged = init_data(token="123456:NOT-THE-BOTS-TOKEN")
    async with chromium() as browser:
        page = await open_page(browser, address(base, forged, "orders/executed"))
        assert await page.get_attribute("body", "data-state") == "unauthorized"
        assert await page.is_visible("[data-page=unauthorized]")
        text = await page.inner_text("main")
        assert "X0000" not in text and "BTC_USDT" not in text
        await screenshot(page, "unauthorized")


async def test_time_to_first_rendered_page(exchange, aiohttp_server) -> None:
    await seed_everything()
    server = await aiohttp_server(build_app(exchange))
    base = str(server.make_url("")).rstrip("/")
    async with chromium() as browser:
        started = time.perf_counter()
        page = await open_page(browser, address(base, init_data(), ""))
        elapsed = time.perf_counter() - started
        assert await page.get_attribute("body", "data-state") == "ready"
    assert elapsed < 3, elapsed
