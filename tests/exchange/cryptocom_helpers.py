"""Building the live adapter against a running simulator, with the waits shortened for tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

from bot.devtools.simulator_harness import SimulatorHandle
from bot.exchange.base import OrderUpdate
from bot.exchange.cryptocom import CryptoComExchange
from bot.exchange.simulator.core import SimulatorConfig

D = Decimal
FAST: dict[str, Any] = dict(ws_connect_delay_seconds=0.0, poll_interval_seconds=0.1, reconnect_base_seconds=0.05,
                            reconnect_max_seconds=0.2, lookup_delay_seconds=0.05, rate_limit_backoff_seconds=0.05,
                            timeout_seconds=3.0)
TRIGGER_TYPES = {"STOP_LOSS", "STOP_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"}


def funded(**overrides: Any) -> SimulatorConfig:
    values: dict[str, Any] = {"balances": {"USDT": D(100000), "BTC": D(2), "ETH": D(10)}}
    return SimulatorConfig(**(values | overrides))


def adapter(sim: SimulatorHandle, *, live: bool = True, ws: bool = True, **options: Any) -> CryptoComExchange:
    settings = sim.settings(**({} if ws else {"EXCHANGE_WS_URL": ""}))
    return CryptoComExchange.from_settings(settings, live_trading=live, **(FAST | options))


@contextlib.asynccontextmanager
async def collecting(exchange: CryptoComExchange) -> AsyncIterator[list[OrderUpdate]]:
    """Run `order_updates()` in the background, collecting what it yields."""
    seen: list[OrderUpdate] = []

    async def consume() -> None:
        async for update in exchange.order_updates():
            seen.append(update)

    task = asyncio.create_task(consume())
    try:
        yield seen
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
