"""The protection's reaction times on the emulated (two linked orders) path, with the order stream
(WebSocket) and with polling only (sync cycles):

  fill -> protection placed   a buy fills; until the exchange holds both its stop-loss and its
                              take-profit (the later of the two accepted). Goal: p99 <= 50 ms (WebSocket).
  take-profit -> sibling      the take-profit fills; until the exchange has cancelled the stop-loss.
                              Goal: p99 <= 10 ms (WebSocket).

Both from the matching engine's own timestamps (`Controls.reached_at`), on loopback, with the
simulator in the same process. Prints median and p99 for N groups.

    .venv/bin/python bench/oco_reaction.py [--groups 50] [--poll-interval 1.0] [--modes websocket,polling]
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
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.exchange_under_test import controlled_exchange
from bot.app import settle_heap
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


@dataclass
class Figures:
    placed: list[float] = field(default_factory=list)      # fill -> protection placed, seconds
    sibling: list[float] = field(default_factory=list)     # take-profit fill -> stop-loss cancelled


async def run(mode: str, groups: int, poll_interval: float) -> tuple[Figures, str]:
    figures = Figures()
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
                    await wait_until(lambda: mode != "websocket" or any(s.connected.is_set() for s in exchange.streams))
                    settle_heap()                               # as `python -m bot run` does once started
                    for n in range(groups):
                        await _one_group(exchange, controls, figures, mode, n)
                finally:
                    background.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await background
        finally:
            await close_db()
    return figures, description


async def _one_group(exchange, controls, figures: Figures, mode: str, n: int) -> None:  # type: ignore[no-untyped-def]
    price = D(100000 + n * 10)
    buy_oid = f"bench-{mode}-{n}"
    await exchange.create_order(OrderRequest(symbol="BTC_USDT", side=Side.BUY, order_type=OrderType.LIMIT,
                                             client_oid=buy_oid, quantity=D("0.01"), price=price))
    await asyncio.sleep(0.05)                                   # the buy rests, as a real one would
    await _set(controls, price)                                 # the buy fills
    await wait_until(lambda: OcoGroupRecord.filter(state="active").exists())
    group = await OcoGroupRecord.get(state="active")
    legs = (group.stop_loss_client_oid, group.take_profit_client_oid)
    await wait_until(lambda: all(controls.placed_at(oid) is not None for oid in legs))
    filled = controls.reached_at(buy_oid, OrderStatus.FILLED)
    figures.placed.append(max(controls.placed_at(oid) for oid in legs) - filled)
    await asyncio.sleep(0.1)                                    # the legs wait a while
    await _set(controls, group.take_profit_price)               # the take-profit fills
    await wait_until(lambda: controls.status_of(group.stop_loss_client_oid) is OrderStatus.CANCELED)
    figures.sibling.append(controls.reached_at(group.stop_loss_client_oid, OrderStatus.CANCELED)
                           - controls.reached_at(group.take_profit_client_oid, OrderStatus.FILLED))
    await wait_until(lambda: _closed(group.id))


async def _closed(group_id: str) -> bool:
    group = await OcoGroupRecord.get(id=group_id)
    return group.state == "closed"


async def _set(controls, price: Decimal) -> None:  # type: ignore[no-untyped-def]
    result = controls.set_price("BTC_USDT", price)
    if inspect.isawaitable(result):
        await result


def _line(name: str, values: list[float]) -> str:
    return (f"{name}: median {statistics.median(values) * 1000:6.1f} ms, p99 {p99(values) * 1000:6.1f} ms, "
            f"max {max(values) * 1000:6.1f} ms")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--poll-interval", type=float, default=1.0, help="seconds between sync cycles")
    parser.add_argument("--modes", default="websocket,polling")
    args = parser.parse_args()
    for mode in args.modes.split(","):
        figures, description = await run(mode, args.groups, args.poll_interval)
        print(f"{mode} ({len(figures.sibling)} groups; {description}"
              + (f"; sync every {args.poll_interval:g} s" if mode == "polling" else "") + ")")
        print("  " + _line("fill -> protection placed ", figures.placed))
        print("  " + _line("take-profit -> sibling cut", figures.sibling))


if __name__ == "__main__":
    asyncio.run(main())
