"""Builds the services (no aiogram here) and the job callables the scheduler runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.domain.strategy import StrategyParams
from bot.jobs.sync_job import build_sync, register_sync_job
from bot.services.auto_orders import AutoOrderService
from bot.services.oco_health import OcoHealthService
from bot.services.portfolio import PortfolioService
from bot.services.signals import SignalService

BACKFILL_CALLS_PER_CYCLE = 20

if TYPE_CHECKING:
    from bot.app import App


def build_services(app: App) -> dict[str, Any]:
    services: dict[str, Any] = {"exchange": app.exchange, "events": app.events}
    # The first sync reads the recent window, then walks the 180 days back 20 history requests a cycle
    # (20 s at the exchange's 1 request/s), so no cycle blocks the next for minutes;
    # `python -m bot backfill` walks it all at once.
    sync, protection = build_sync(app.exchange, app.events, backfill_calls_per_cycle=BACKFILL_CALLS_PER_CYCLE)
    register_sync_job(services, sync, app.lock)
    services["protection"] = protection
    services["portfolio"] = PortfolioService(app.exchange.mode)
    services["oco_health"] = OcoHealthService(app.exchange.mode)
    settings = app.settings
    signals = SignalService(app.exchange, app.events, StrategyParams(
        rsi_buy=settings.STRATEGY_RSI_BUY, rsi_sell=settings.STRATEGY_RSI_SELL,
        min_volume_ratio=settings.STRATEGY_MIN_VOLUME_RATIO, rebuy_move_percent=settings.STRATEGY_REBUY_MOVE_PERCENT),
        auto_orders=AutoOrderService(app.exchange, app.events))
    services["signals"] = signals
    services["market_job"] = signals.update_market
    services["signal_job"] = signals.monitor
    return services
