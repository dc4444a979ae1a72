"""The exchange the service tests run against: the crypto.com v1 simulator on a loopback port,
reached through the live adapter (ccxt signing, the advanced endpoints, the user WebSocket), exactly
the path a real account takes. The test side moves the market and injects faults on the simulator.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

from bot.devtools.simulator_harness import SimulatorHandle, running_simulator
from bot.domain.orders import Order
from bot.exchange.cryptocom import CryptoComExchange
from bot.exchange.cryptocom.exchange import CryptoComOptions
from bot.exchange.simulator import SimulatorConfig

PROTOCOL_METHODS = frozenset({
    "instruments", "instrument", "ticker", "tickers", "candles", "balances", "open_orders", "order_history",
    "order_detail", "create_order", "create_trigger_order", "create_oco", "cancel_oco", "create_otoco",
    "cancel_otoco", "cancel_order", "order_updates"})
NATIVE_OCO_METHODS = ("private/advanced/create-oco", "private/advanced/create-otoco")

# Waits shortened for tests; behaviour is the adapter's own.
TEST_OPTIONS = CryptoComOptions(timeout_seconds=5.0, rate_limit_backoff_seconds=0.05, history_interval_seconds=0,
                                ws_connect_delay_seconds=0, poll_interval_seconds=0.2, reconnect_base_seconds=0.05,
                                reconnect_max_seconds=0.5, lookup_attempts=3, lookup_delay_seconds=0.02)


class SimulatedExchange:
    """The live adapter, recording each `Exchange` call by name, plus the simulator's controls."""

    def __init__(self, adapter: CryptoComExchange, sim: SimulatorHandle) -> None:
        self.adapter = adapter
        self.sim = sim
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.adapter, name)
        if name not in PROTOCOL_METHODS:
            return attr

        def recorded(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return attr(*args, **kwargs)
        return recorded

    # --- the market and the account, from the exchange's side ---------------------------------

    def set_price(self, symbol: str, price: Decimal | str | int) -> None:
        self.sim.set_price(symbol, price)

    def seed_history(self, count: int, *, symbol: str, start_ns: int, end_ns: int) -> None:
        self.sim.seed_history(count, symbol=symbol, start_ns=start_ns, end_ns=end_ns)

    def fill(self, order_id: str, qty: Decimal, price: Decimal | None = None) -> Order:
        """Part of a resting order trades now (someone took part of the book)."""
        return self.sim.engine.fill_partially(order_id, qty, now_ns=self.sim.simulator.clock(),
                                              price=price).to_order()

    @property
    def orders(self) -> dict[str, Order]:
        """Every order the exchange holds, open or final."""
        return {o.order_id: o.to_order() for o in self.sim.engine.all_orders()}

    def refuse_native_oco(self) -> None:
        for method in NATIVE_OCO_METHODS:
            self.sim.faults.force_code(method, "40002", times=None)

    def exchange_calls(self, method: str) -> int:
        """How many requests the simulator received for a v1 method."""
        return len(self.sim.calls_to(method))


@contextlib.asynccontextmanager
async def simulated_exchange(balances: dict[str, Decimal], *, native_oco: bool = True,
                             price: Decimal | None = Decimal(100500), websocket: bool = False,
                             configure: Callable[[SimulatorConfig], None] | None = None,
                             **options: Any) -> AsyncIterator[SimulatedExchange]:
    """A simulator account holding `balances`, BTC_USDT at `price`, and the adapter pointed at it.

    Rate limits are off (their tests are the adapter's and the simulator's own); `websocket=True`
    gives the adapter the user WebSocket, otherwise its order stream polls."""
    # Without native OCO the two linked legs sell the same coins, which only works where an
    # untriggered stop reserves nothing; where it does, the take-profit is refused (tested apart).
    config = SimulatorConfig(balances=dict(balances), rate_limits=False, trigger_orders_lock=native_oco)
    if configure is not None:
        configure(config)
    async with running_simulator(config) as sim:
        if price is not None:
            sim.set_price("BTC_USDT", price)
        adapter_options = replace(TEST_OPTIONS, **options)
        adapter = CryptoComExchange(sim.api_key, sim.api_secret, api_url=sim.rest_url,
                                    ws_url=sim.ws_url if websocket else "", live_trading=True,
                                    options=adapter_options)
        exchange = SimulatedExchange(adapter, sim)
        if not native_oco:
            exchange.refuse_native_oco()
        try:
            yield exchange
        finally:
            await adapter.close()
