"""The sync job: one cycle of `SyncService`, never two at once (also across processes with Redis)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.services.locks import SYNC_LOCK_NAME, JobLock
from bot.services.sync import SyncReport, SyncService

log = logging.getLogger(__name__)


async def run_sync_cycle(sync: SyncService, lock: JobLock, *, ttl_seconds: float = 15,
                         wait_seconds: float = 0) -> SyncReport | None:
    """Run one cycle, or skip (None) when another run still holds the lock (after `wait_seconds`)."""
    async with lock.hold(SYNC_LOCK_NAME, ttl_seconds, wait_seconds=wait_seconds) as acquired:
        if not acquired:
            log.info("sync still running elsewhere (a previous cycle, or `python -m bot backfill`): cycle skipped")
            return None
        report = await sync.run_cycle()
        log.info("sync: %d open, %d new, %d changed, %d history calls, %.2f s", report.open_orders,
                 report.new_orders, report.changed_orders, report.history_calls, report.duration_s)
        return report


def make_sync_job(sync: SyncService, lock: JobLock, *, ttl_seconds: float = 15,
                  wait_seconds: float = 0) -> Callable[[], Awaitable[object]]:
    async def sync_job() -> object:
        return await run_sync_cycle(sync, lock, ttl_seconds=ttl_seconds, wait_seconds=wait_seconds)

    return sync_job
