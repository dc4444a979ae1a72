"""Which periodic jobs run, and how often: the one list the composition root registers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.jobs.scheduler import interval_spec

if TYPE_CHECKING:
    from bot.app import App

JobDef = tuple[str, str, Callable[[], Awaitable[object]]]


def job_definitions(app: App) -> list[JobDef]:
    settings = app.settings
    jobs: list[JobDef] = []
    sync = app.services.get("sync_job")
    if sync is not None:
        jobs.append(("sync", interval_spec(settings.SYNC_INTERVAL_SECONDS), sync))
    market = app.services.get("market_job")
    if market is not None:
        jobs.append(("market", interval_spec(settings.MARKET_INTERVAL_SECONDS), market))
    signals = app.services.get("signal_job")
    if signals is not None:
        jobs.append(("signals", interval_spec(settings.SIGNAL_INTERVAL_SECONDS), signals))
    return jobs
