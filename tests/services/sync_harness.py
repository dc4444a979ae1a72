"""Builds the sync + protection services against one exchange and the test database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.db.repositories import OrderRepository
from bot.domain.events import Event
from bot.domain.instrument import Instrument
from bot.services.events import EventBus
from bot.services.protection import ProtectionService, StepHook
from bot.services.sync import SyncService

D = Decimal
BTC = Instrument(symbol="BTC_USDT", base="BTC", quote="USDT", price_tick=D("0.01"), qty_tick=D("0.00001"),
                 min_notional=D(1))
ETH = Instrument(symbol="ETH_USDT", base="ETH", quote="USDT", price_tick=D("0.01"), qty_tick=D("0.0001"),
                 min_notional=D(1))


@dataclass
class Harness:
    exchange: Any
    events: EventBus
    repo: OrderRepository
    protection: ProtectionService
    sync: SyncService

    def of(self, kind: type[Event]) -> list[Any]:
        return [e for e in self.events.published if isinstance(e, kind)]


def build(exchange: Any, *, hook: StepHook | None = None, mode: str | None = None, events: EventBus | None = None,
          **sync_options: Any) -> Harness:
    events = events or EventBus()
    repo = OrderRepository(mode or exchange.mode)
    protection = ProtectionService(exchange, repo, events, step_hook=hook)
    # Two days of back-fill unless a test asks for more: each day is a history request over HTTP.
    options: dict[str, Any] = {"history_min_interval_s": 0, "backfill_days": 2, **sync_options}
    sync = SyncService(exchange, events, repo, protection, **options)
    return Harness(exchange, events, repo, protection, sync)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Poll `check` until it holds (the stream is another task), failing after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.01)


async def bought(exchange: Any, qty: str, price: str = "100000", **build_options: Any) -> Harness:
    """The bot watches the account, a buy is placed by hand and fills: the start of most stories."""
    from bot.domain.orders import OrderType, Side
    from bot.exchange.base import OrderRequest

    h = build(exchange, **build_options)
    await h.sync.run_cycle()
    await exchange.create_order(OrderRequest(symbol="BTC_USDT", side=Side.BUY, order_type=OrderType.LIMIT,
                                             client_oid=f"hand-{qty}-{price}", quantity=D(qty), price=D(price)))
    await h.sync.run_cycle()
    exchange.set_price("BTC_USDT", D(price))
    await h.sync.run_cycle()
    return h
