"""Run the simulator on a loopback port for tests and benchmarks (the real HTTP and WebSocket
protocol, so ccxt and the live adapter talk to it exactly as they would to crypto.com).

A test helper: product code never imports bot.devtools (`python -m bot simulator` serves through
`bot.exchange.simulator.server.serving` directly)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.exchange.base import Candle
from bot.exchange.engine import EngineOrder, MatchingEngine
from bot.exchange.simulator.core import RecordedCall, Simulator, SimulatorConfig
from bot.exchange.simulator.faults import FaultInjector
from bot.exchange.simulator.market import bundled_candles
from bot.exchange.simulator.server import Endpoints, SimulatorServer, serving


@dataclass
class SimulatorHandle:
    simulator: Simulator
    server: SimulatorServer
    base_url: str                 # http://127.0.0.1:PORT

    @property
    def rest_url(self) -> str:
        return Endpoints(self.base_url).rest_url

    @property
    def ws_url(self) -> str:
        return Endpoints(self.base_url).ws_url

    @property
    def api_key(self) -> str:
        return self.simulator.config.api_key

    @property
    def api_secret(self) -> str:
        return self.simulator.config.api_secret

    @property
    def engine(self) -> MatchingEngine:
        return self.simulator.engine

    @property
    def calls(self) -> list[RecordedCall]:
        return self.simulator.calls

    @property
    def faults(self) -> FaultInjector:
        return self.simulator.faults

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [c for c in self.simulator.calls if c.method == method]

    def set_price(self, symbol: str, price: Decimal | str | int) -> list[EngineOrder]:
        return self.simulator.set_price(symbol, price)

    def apply_candle(self, symbol: str, candle: Candle) -> list[EngineOrder]:
        return self.simulator.apply_candle(symbol, candle)

    def seed_history(self, count: int, **kwargs: Any) -> list[EngineOrder]:
        return self.simulator.seed_history(count, **kwargs)

    async def drop_websockets(self) -> int:
        return await self.server.hub.close_all(code=1013, reason="server restarting")

    def settings(self, **overrides: Any) -> Any:
        """Bot settings pointing the live adapter at this simulator (LIVE_TRADING stays as given)."""
        from bot.settings import load_settings

        values: dict[str, Any] = {"EXCHANGE_API_URL": self.rest_url, "EXCHANGE_WS_URL": self.ws_url,
                                  "EXCHANGE_CUSTOM_API_KEY": self.api_key,
                                  "EXCHANGE_CUSTOM_API_SECRET": self.api_secret}
        return load_settings(**(values | overrides))


@contextlib.asynccontextmanager
async def running_simulator(config: SimulatorConfig | None = None, *, host: str = "127.0.0.1",
                            port: int = 0) -> AsyncIterator[SimulatorHandle]:
    if config is None:
        config = SimulatorConfig(candles=bundled_candles())
    simulator = Simulator(config)
    server = SimulatorServer(simulator)
    async with serving(server, host=host, port=port) as endpoints:
        yield SimulatorHandle(simulator, server, endpoints.base_url)
