"""The exchange the benchmarks drive: the crypto.com simulator through the live adapter when it is
available, else the in-memory stand-in from the tests (the output says which)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

DAY = 86_400 * 10**9


def simulator_available() -> bool:
    # The harness that starts the simulator and points the live adapter at it is written once
    # both exist (bench/simulator_harness.py); until then the stand-in is used.
    import importlib.util

    needed = ("bench.simulator_harness", "bot.exchange.cryptocom", "bot.exchange.simulator")
    try:
        return all(importlib.util.find_spec(name) is not None for name in needed)
    except ImportError:
        return False


@contextlib.asynccontextmanager
async def seeded_exchange(kind: str, size: int) -> AsyncIterator[tuple[Any, Callable[[], list[str]]]]:
    """An exchange holding `size` final orders spread over 180 days, and a function listing its calls."""
    if kind == "simulator" or (kind == "auto" and simulator_available()):
        from bench.simulator_harness import simulator_exchange

        async with simulator_exchange(seed_history=size) as (exchange, calls):
            yield exchange, calls
        return
    from tests.services.stand_in_exchange import StandInExchange
    from tests.services.sync_harness import BTC

    print(f"[{size:,}] exchange: in-memory stand-in (simulator not available)")
    exchange = StandInExchange({"BTC_USDT": BTC}, {"USDT": Decimal(1000), "BTC": Decimal(1)})
    exchange.set_price("BTC_USDT", Decimal(100000))
    now = time.time_ns()
    exchange.seed_history(size, symbol="BTC_USDT", start_ns=now - 180 * DAY, end_ns=now - 60 * 10**9)
    yield exchange, lambda: list(exchange.calls)


class Controls:
    """What a benchmark does to the market behind the exchange: move the price, read an order's status."""

    def __init__(self, set_price: Callable[[str, Decimal], Any], status_of: Callable[[str], Any]) -> None:
        self.set_price = set_price
        self.status_of = status_of


@contextlib.asynccontextmanager
async def controlled_exchange(kind: str, *, native_oco: bool,
                              usdt: Decimal = Decimal(10_000_000)) -> AsyncIterator[tuple[Any, Controls, str]]:
    """An exchange with a BTC_USDT market the caller moves; yields (exchange, controls, description)."""
    if kind == "simulator" or (kind == "auto" and simulator_available()):
        from bench.simulator_harness import simulator_controlled

        async with simulator_controlled(native_oco=native_oco, usdt=usdt) as (exchange, controls):
            yield exchange, controls, "crypto.com simulator over loopback via the live adapter"
        return
    from tests.services.stand_in_exchange import StandInExchange
    from tests.services.sync_harness import BTC

    exchange = StandInExchange({"BTC_USDT": BTC}, {"USDT": usdt}, native_oco=native_oco)
    exchange.set_price("BTC_USDT", Decimal(100000))

    def status_of(client_oid: str) -> Any:
        order_id = exchange.by_oid.get(client_oid)
        return None if order_id is None else exchange.orders[order_id].status

    yield exchange, Controls(exchange.set_price, status_of), "in-memory stand-in (simulator not available)"
