"""The exchange the benchmarks drive: the crypto.com v1 simulator on a loopback port, reached through
the live adapter (ccxt signing, the advanced endpoints, the user WebSocket), as a real account is."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

from bot.devtools.simulator_harness import SimulatorHandle, running_simulator
from bot.domain.orders import OrderStatus
from bot.exchange.cryptocom import CryptoComExchange
from bot.exchange.cryptocom.exchange import CryptoComOptions
from bot.exchange.simulator import SimulatorConfig

DAY = 86_400 * 10**9
DESCRIPTION = "crypto.com simulator over loopback via the live adapter"
# The exchange's own pacing of history requests (1/s) would measure the limit, not the bot.
OPTIONS = CryptoComOptions(history_interval_seconds=0, ws_connect_delay_seconds=0, poll_interval_seconds=1.0,
                           lookup_delay_seconds=0.02)


@contextlib.asynccontextmanager
async def _adapter(config: SimulatorConfig, *, websocket: bool,
                   poll_interval: float = 1.0) -> AsyncIterator[tuple[CryptoComExchange, SimulatorHandle]]:
    async with running_simulator(config) as sim:
        options = CryptoComOptions(**{**OPTIONS.__dict__, "poll_interval_seconds": poll_interval})
        adapter = CryptoComExchange(sim.api_key, sim.api_secret, api_url=sim.rest_url,
                                    ws_url=sim.ws_url if websocket else "", live_trading=True, options=options)
        try:
            yield adapter, sim
        finally:
            await adapter.close()


@contextlib.asynccontextmanager
async def seeded_exchange(size: int) -> AsyncIterator[tuple[Any, Callable[[], list[str]]]]:
    """An account holding `size` final orders spread over 180 days, and a function listing the
    v1 methods the simulator has received so far."""
    config = SimulatorConfig(balances={"USDT": Decimal(1000), "BTC": Decimal(1)}, rate_limits=False)
    async with _adapter(config, websocket=False) as (adapter, sim):
        sim.set_price("BTC_USDT", Decimal(100000))
        now = time.time_ns()
        sim.seed_history(size, symbol="BTC_USDT", start_ns=now - 180 * DAY, end_ns=now - 60 * 10**9)
        yield adapter, lambda: [c.method for c in sim.calls]


class Controls:
    """What a benchmark does to the market behind the exchange: move the price, read an order's
    status, and when the exchange saw each order reach each status (`time.perf_counter()`, taken
    by the matching engine as it happens, so no polling step blurs a measurement)."""

    def __init__(self, sim: SimulatorHandle) -> None:
        self.sim = sim
        self._reached: dict[tuple[str, OrderStatus], float] = {}
        self._first_seen: dict[str, float] = {}
        sim.engine.listeners.append(self._on_change)

    def _on_change(self, order: Any) -> None:
        now = time.perf_counter()
        self._first_seen.setdefault(order.client_oid, now)
        self._reached.setdefault((order.client_oid, order.status), now)

    def set_price(self, symbol: str, price: Decimal) -> None:
        self.sim.set_price(symbol, price)

    def status_of(self, client_oid: str) -> OrderStatus | None:
        order = self.sim.engine.get(client_oid=client_oid)
        return None if order is None else order.status

    def placed_at(self, client_oid: str) -> float | None:
        """When the exchange accepted the order."""
        return self._first_seen.get(client_oid)

    def reached_at(self, client_oid: str, status: OrderStatus) -> float | None:
        return self._reached.get((client_oid, status))


@contextlib.asynccontextmanager
async def controlled_exchange(*, native_oco: bool, websocket: bool, poll_interval: float = 1.0,
                              usdt: Decimal = Decimal(10_000_000)) -> AsyncIterator[tuple[Any, Controls, str]]:
    """An account with a BTC_USDT market the caller moves; yields (exchange, controls, description).
    Without native OCO the protection is two linked trigger legs, which needs stops that reserve
    nothing until they fire."""
    config = SimulatorConfig(balances={"USDT": usdt}, rate_limits=False, trigger_orders_lock=native_oco)
    async with _adapter(config, websocket=websocket, poll_interval=poll_interval) as (adapter, sim):
        sim.set_price("BTC_USDT", Decimal(100000))
        if not native_oco:
            for method in ("private/advanced/create-oco", "private/advanced/create-otoco"):
                sim.faults.force_code(method, "40002", times=None)
        yield adapter, Controls(sim), DESCRIPTION + (" (user WebSocket)" if websocket else " (polling only)")
