"""Builds the services (no aiogram here) and the job callables the scheduler runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.jobs.sync_job import build_sync, register_sync_job
from bot.services.oco_health import OcoHealthService
from bot.services.portfolio import PortfolioService

if TYPE_CHECKING:
    from bot.app import App


def build_services(app: App) -> dict[str, Any]:
    services: dict[str, Any] = {"exchange": app.exchange, "events": app.events}
    sync, protection = build_sync(app.exchange, app.events)
    register_sync_job(services, sync, app.lock)
    services["protection"] = protection
    services["portfolio"] = PortfolioService(app.exchange.mode)
    services["oco_health"] = OcoHealthService(app.exchange.mode)
    return services
