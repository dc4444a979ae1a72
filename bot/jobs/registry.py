"""Which periodic jobs run, and how often: the one list the composition root registers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.jobs.scheduler import interval_spec
from bot.settings import Settings

Job = Callable[[], Awaitable[object]]
JobDef = tuple[str, str, Job]


def job_definitions(settings: Settings, *, sync: Job, market: Job, signals: Job) -> list[JobDef]:
    return [
        ("sync", interval_spec(settings.SYNC_INTERVAL_SECONDS), sync),
        ("market", interval_spec(settings.MARKET_INTERVAL_SECONDS), market),
        ("signals", interval_spec(settings.SIGNAL_INTERVAL_SECONDS), signals),
    ]
