"""Which periodic jobs run, and how often: the one list the composition root registers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.jobs.scheduler import interval_spec
from bot.settings import Settings

Job = Callable[[], Awaitable[object]]
JobDef = tuple[str, str, Job]


# Every minute: each user's report time is in their own zone (and may change with /settings), so the
# job asks who is due instead of keeping one cron entry per user.
DAILY_REPORT_SPEC = interval_spec(60)
# Hourly: each run rolls up what aged past the retention in the last hour (and the backlog, once).
RETENTION_SPEC = interval_spec(3600)


def job_definitions(settings: Settings, *, sync: Job, market: Job, signals: Job,
                    daily_report: Job | None = None, retention: Job | None = None) -> list[JobDef]:
    jobs = [
        ("sync", interval_spec(settings.SYNC_INTERVAL_SECONDS), sync),
        ("market", interval_spec(settings.MARKET_INTERVAL_SECONDS), market),
        ("signals", interval_spec(settings.SIGNAL_INTERVAL_SECONDS), signals),
    ]
    if daily_report is not None:
        jobs.append(("daily-report", DAILY_REPORT_SPEC, daily_report))
    if retention is not None:
        jobs.append(("retention", RETENTION_SPEC, retention))
    return jobs
