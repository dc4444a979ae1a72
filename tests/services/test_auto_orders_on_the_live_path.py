"""Automatic orders through the live adapter on the simulator: one coin's exchange trouble never
costs the other coins their signal, and the troubled one is recorded, not silent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.db.models import AutoOrderDecision, WatchlistEntry
from bot.domain.events import AutoOrderPlaced, AutoOrderRefused
from bot.exchange.simulator import SimulatorConfig
from bot.exchange.simulator.market import bundled_candles
from bot.services.auto_orders import AutoOrderService
from bot.services.events import EventBus
from bot.services.signals import SignalService
from tests.services.sim_exchange import simulated_exchange
from tests.services.test_signal_service import ALWAYS_BUY

pytestmark = pytest.mark.sync
D = Decimal


async def test_a_coin_the_exchange_fails_on_is_recorded_and_the_next_coin_still_buys(db: str) -> None:
    def with_candles(config: SimulatorConfig) -> None:
        config.candles = bundled_candles()
        config.prices = {s: c[-1].close for s, c in config.candles.items() if s in ("BTC_USDT", "ETH_USDT")}

    async with simulated_exchange({"USDT": D(100000)}, price=None, configure=with_candles) as exchange:
        for symbol in ("BTC_USDT", "ETH_USDT"):
            await WatchlistEntry.create(symbol=symbol, trade_enabled=True, amount_usd=D(100))
        events = EventBus()
        service = SignalService(exchange, events, ALWAYS_BUY, auto_orders=AutoOrderService(exchange, events))
        assert set((await service.update_market()).values()) == {None}
        # BTC's open-order read fails every time (with the adapter's retries): its buy cannot be weighed.
        exchange.sim.faults.force_code("private/get-open-orders", "50001", times=3)

        verdicts = await service.monitor()

        assert {s: v.decision.value for s, v in verdicts.items()} == {"BTC_USDT": "BUY", "ETH_USDT": "BUY"}
        assert [e.symbol for e in events.published if isinstance(e, AutoOrderPlaced)] == ["ETH_USDT"]
        refused = [e for e in events.published if isinstance(e, AutoOrderRefused)]
        assert [(e.symbol, e.rule) for e in refused] == [("BTC_USDT", "exchange_unavailable")]
        assert await AutoOrderDecision.filter(symbol="BTC_USDT", allowed=False).count() == 1
        assert await AutoOrderDecision.filter(symbol="ETH_USDT", allowed=True).count() == 1
        assert [o.list_id is not None for o in await exchange.open_orders("ETH_USDT")] == [True, True]
