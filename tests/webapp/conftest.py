from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from bot.exchange.base import Candle
from bot.exchange.simulator import SimulatorConfig
from bot.exchange.simulator.market import bundled_candles
from tests.services.sim_exchange import SimulatedExchange, simulated_exchange

CHART_SYMBOLS = ("BTC_USDT", "ETH_USDT")


@functools.cache
def chart_candles() -> dict[str, list[Candle]]:
    return {s: c[-400:] for s, c in bundled_candles().items() if s in CHART_SYMBOLS}


def with_candles(config: SimulatorConfig) -> None:
    """The bundled real candles, re-timed so the last one ends now (the last 400 hours: enough for the
    chart's indicators, cheap to serve)."""
    config.candles = dict(chart_candles())


@pytest.fixture
async def exchange(db: str) -> AsyncIterator[SimulatedExchange]:
    async with simulated_exchange({"USDT": Decimal(10000)}, configure=with_candles) as sim:
        yield sim
