"""The history back-fill as its own background task, beside the sync cycles (never inside one).

It walks the 180 days a few dozen history requests at a time under a lock (one process walks it
when several share Redis), and retries later after a failure; once the walk is done it ends. Its
waits are plain asyncio sleeps, so cancelling the task (shutdown) stops it at once; progress is
saved per window, so the next start resumes there.
"""

from __future__ import annotations

import asyncio
import logging

from bot.services.backfill import BackfillProgress
from bot.services.background import stop_if_cancelled
from bot.services.locks import JobLock
from bot.services.sync import SyncService

log = logging.getLogger(__name__)
BACKFILL_LOCK_NAME = "history-backfill"


async def run_backfill_task(sync: SyncService, lock: JobLock, *, calls_per_turn: int = 30,
                            retry_seconds: float = 30.0, ttl_seconds: float = 600.0) -> BackfillProgress:
    """Walk the back-fill to its end; returns its final progress."""
    while True:
        try:
            async with lock.hold(BACKFILL_LOCK_NAME, ttl_seconds) as acquired:
                if acquired:
                    progress = await sync.run_backfill(max_calls=calls_per_turn)
                    if progress.done:
                        log.info("back-fill done: %d orders read over %d days", progress.orders_seen,
                                 progress.windows_total)
                        return progress
                    log.info("back-fill: %d of %d days read", progress.windows_done, progress.windows_total)
                    continue        # the lock is let go between turns: another process may take over
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            stop_if_cancelled()
            log.warning("back-fill interrupted (%s: %s); trying again in %.0f s", type(exc).__name__, exc,
                        retry_seconds)
        await asyncio.sleep(retry_seconds)
