"""Builds the services (no aiogram here) and the job callables the scheduler runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.app import App


def build_services(app: App) -> dict[str, Any]:
    services: dict[str, Any] = {"exchange": app.exchange, "events": app.events}
    return services
