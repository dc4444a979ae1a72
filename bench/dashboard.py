"""The Mini App under load: p50/p95 of each list endpoint and page at 1,000 and 100,000 stored orders
(the executed history's first and last page included), the CSV export of 100,000 orders (time and
peak memory), and the time to the first rendered page in Chromium.

    .venv/bin/python bench/dashboard.py [--database postgres://...] [--sizes 1000,100000] [--runs 40]

SQLite in a temporary file by default; `--database` points it at an empty PostgreSQL database
(its tables are truncated first). Requests go over loopback to the real aiohttp server, signed
initData on each, as the page sends them. Goal: p95 <= 50 ms at 100,000 orders, the last page too.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from aiohttp import web
from tortoise import Tortoise

from bot.db.config import close_db, init_db
from tests.services.sim_exchange import simulated_exchange
from tests.webapp.browser import CHROMIUM, LAUNCH_ARGS, PHONE, address
from tests.webapp.conftest import with_candles
from tests.webapp.harness import (
    auth,
    build_app,
    init_data,
    seed_executed,
    seed_group,
    seed_signal,
    seed_snapshots,
    seed_watchlist,
)

ENDPOINTS = [
    "/api/dashboard/state", "/api/orders/open", "/api/orders/executed?limit=50",
    "/api/orders/executed?limit=500", "/api/orders/executed?limit=50&symbol=BTC_USDT&side=SELL",
    "/api/portfolio", "/api/portfolio/history", "/api/watchlist", "/api/signals",
    "/api/views/dashboard", "/api/views/orders/open", "/api/views/orders/executed",
    "/api/views/portfolio", "/api/views/watchlist", "/api/views/signals",
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def timed(session: aiohttp.ClientSession, url: str, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        headers = auth()
        started = time.perf_counter()
        async with session.get(url, headers=headers) as response:
            await response.read()
            assert response.status == 200, (url, response.status)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), percentile(times, 0.95)


async def last_page_cursor(session: aiohttp.ClientSession, base: str, limit: int) -> tuple[str | None, float]:
    """Walks the history to its last page; returns that page's cursor and the walk's time."""
    cursor, last, started = None, None, time.perf_counter()
    while True:
        url = f"{base}/api/orders/executed?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        async with session.get(url, headers=auth()) as response:
            body = await response.json()
        if body["next_cursor"] is None:
            return last, time.perf_counter() - started
        last, cursor = cursor, body["next_cursor"]


async def reset(database: str) -> None:
    if database.startswith("sqlite"):
        return
    conn = Tortoise.get_connection("pg")
    tables = [r["tablename"] for r in await conn.execute_query_dict(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'tortoise_migrations'")]
    await conn.execute_script("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")


async def first_render(base: str, runs: int = 5) -> list[float]:
    if not CHROMIUM.exists():
        return []
    from playwright.async_api import async_playwright

    times = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        for _ in range(runs):
            page = await browser.new_page(viewport=PHONE)
            started = time.perf_counter()
            await page.goto(address(base, init_data(), ""))
            await page.wait_for_selector("body[data-state=ready]")
            times.append((time.perf_counter() - started) * 1000)
            await page.close()
        await browser.close()
    return times


async def run(size: int, database: str, runs: int) -> None:
    await init_db(database)
    try:
        await reset(database)
        started = time.perf_counter()
        await seed_executed(size)
        await seed_group("BTC_USDT")
        await seed_watchlist("BTC_USDT", "ETH_USDT", "SOL_USDT", "ADA_USDT")
        for symbol in ("BTC_USDT", "ETH_USDT"):
            await seed_signal(symbol, "WAIT")
        await seed_snapshots([Decimal(1000 + i) for i in range(200)], hours_apart=1)
        print(f"\n{size:,} stored orders (seeded in {time.perf_counter() - started:.1f} s), {runs} requests each")
        async with simulated_exchange({"USDT": Decimal(10000)}, configure=with_candles) as exchange:
            runner = web.AppRunner(build_app(exchange), access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            base = f"http://127.0.0.1:{runner.addresses[0][1]}"
            try:
                async with aiohttp.ClientSession() as session:
                    for path in ENDPOINTS:
                        p50, p95 = await timed(session, base + path, runs)
                        print(f"  {path:<58} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")
                    for limit in (50, 500):
                        cursor, walk_s = await last_page_cursor(session, base, limit)
                        if cursor is None:
                            continue
                        p50, p95 = await timed(session, f"{base}/api/orders/executed?limit={limit}&cursor={cursor}",
                                               runs)
                        print(f"  {'last page, limit ' + str(limit):<58} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms"
                              f"  (whole walk {walk_s:.1f} s)")
                        p50, p95 = await timed(session, f"{base}/api/views/orders/executed?limit={limit}"
                                               f"&cursor={cursor}", runs)
                        print(f"  {'last page view, limit ' + str(limit):<58} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")
                    # Time first; then the peak memory in a second export (tracing every allocation slows
                    # Python several times over, so one run cannot measure both).
                    for traced in (False, True):
                        if traced:
                            tracemalloc.start()
                        started = time.perf_counter()
                        rows = 0
                        async with session.get(f"{base}/api/orders/executed.csv", headers=auth()) as response:
                            async for chunk in response.content.iter_chunked(1 << 16):
                                rows += chunk.count(b"\n")
                        elapsed = time.perf_counter() - started
                        if not traced:
                            print(f"  CSV export: {rows - 1:,} rows in {elapsed:.2f} s")
                            continue
                        _current, peak = tracemalloc.get_traced_memory()
                        tracemalloc.stop()
                        print(f"  CSV export peak Python memory: {peak / 2**20:.1f} MiB (server and client in this "
                              f"process, traced)")
                renders = await first_render(base)
                if renders:
                    print(f"  first rendered page in Chromium (dashboard, loopback): median "
                          f"{statistics.median(renders):.0f} ms, max {max(renders):.0f} ms over {len(renders)}")
            finally:
                await runner.cleanup()
    finally:
        await close_db()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help="postgres://... (default: SQLite in a temporary file)")
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            database = args.database or f"sqlite://{folder}/bench.sqlite3"
            await run(size, database, args.runs)


if __name__ == "__main__":
    asyncio.run(main())
