"""Time from a protection leg's fill to the cancel of its sibling, on the emulated (two linked
orders) path: with the order stream (WebSocket) and with polling only (sync cycles).

For each of N groups: a buy fills, protection is placed, the price reaches the take-profit, and
the clock runs until the exchange reports the stop-loss canceled. Prints median and p99.
Goal: p99 under 0.5 s with the WebSocket.

    .venv/bin/python bench/oco_reaction.py [--groups 50] [--poll-interval 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.exchange_under_test import controlled_exchange
from bot.db.config import close_db, init_db
from bot.db.models import OcoGroupRecord
from bot.db.repositories import OrderRepository
from bot.domain.orders import OrderStatus, OrderType, Side
from bot.exchange.base import OrderRequest
from bot.services.events import EventBus
from bot.services.protection import ProtectionService
from bot.services.sync import SyncService

D = Decimal


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


async def wait_until(check, timeout: float = 30.0, step: float = 0.001):  # type: ignore[no-untyped-def]
    deadline = time.perf_counter() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return
        if time.perf_counter() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(step)


async def run(mode: str, groups: int, poll_interval: float) -> tuple[list[float], str]:
    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        await init_db(f"sqlite://{tmp}/bench.sqlite3")
        try:
            async with controlled_exchange(native_oco=False, websocket=mode == "websocket",
                                           poll_interval=poll_interval) as (exchange, controls, description):
                events = EventBus()
                repo = OrderRepository(exchange.mode)
                sync = SyncService(exchange, events, repo, ProtectionService(exchange, repo, events),
                                   history_min_interval_s=0, backfill_days=1)
                await sync.run_cycle()
                background: asyncio.Task[None]
                if mode == "websocket":
                    background = asyncio.create_task(sync.follow_order_stream())
                else:
                    async def poll() -> None:
                        while True:
                            await sync.run_cycle()
                            await asyncio.sleep(poll_interval)
                    background = asyncio.create_task(poll())
                try:
                    await asyncio.sleep(0.2)
                    for n in range(groups):
                        price = D(100000 + n * 10)
                        await exchange.create_order(OrderRequest(
                            symbol="BTC_USDT", side=Side.BUY, order_type=OrderType.LIMIT,
                            client_oid=f"bench-{mode}-{n}", quantity=D("0.01"), price=price))
                        await _set(controls, price)                          # the buy fills
                        await wait_until(lambda: OcoGroupRecord.filter(state="active").exists())
                        group = await OcoGroupRecord.get(state="active")
                        await wait_until(lambda g=group: controls.status_of(g.stop_loss_client_oid) is not None)
                        await _set(controls, group.take_profit_price)        # the take-profit fills
                        filled_at = time.perf_counter()
                        await wait_until(lambda g=group: controls.status_of(g.stop_loss_client_oid)
                                         is OrderStatus.CANCELED)
                        latencies.append(time.perf_counter() - filled_at)
                        await wait_until(lambda g=group: _closed(g.id))
                finally:
                    background.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await background
        finally:
            await close_db()
    return latencies, description


async def _closed(group_id: str) -> bool:
    group = await OcoGroupRecord.get(id=group_id)
    return group.state == "closed"


async def _set(controls, price: Decimal) -> None:  # type: ignore[no-untyped-def]
    result = controls.set_price("BTC_USDT", price)
    if inspect.isawaitable(result):
        await result


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--poll-interval", type=float, default=1.0, help="seconds between sync cycles")
    args = parser.parse_args()
    for mode in ("websocket", "polling"):
        latencies, description = await run(mode, args.groups, args.poll_interval)
        print(f"{mode:>9}: {len(latencies)} groups, median {statistics.median(latencies) * 1000:.1f} ms, "
              f"p99 {p99(latencies) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms  [{description}"
              + (f"; sync every {args.poll_interval:g} s" if mode == "polling" else "") + "]")


if __name__ == "__main__":
    asyncio.run(main())
