"""`python -m bot backfill`: walk the whole order history into the database, with a progress bar.

Ctrl-C stops it; the next run resumes at the first window not finished (progress is in the
database after every window). Nothing found here places an order.

It holds the sync lock for its whole run (the database's `locks` table, or Redis with REDIS_URL),
the one a running bot takes for each sync cycle: the bot skips its cycles meanwhile instead of
paging the order history at the same time (1 request a second for both together, or 42901).
When a cycle is under way it waits for it, and refuses to start, with one line, if it does not end.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

from redis.asyncio import Redis
from tqdm import tqdm

from bot.services.locks import SYNC_LOCK_NAME, build_job_lock, hold_waiting
from bot.settings import Settings

log = logging.getLogger(__name__)
LOCK_WAIT_SECONDS = 60.0       # a running bot's first cycles read up to 20 history pages (20 s)
LOCK_TTL_SECONDS = 60.0        # renewed while it runs; freed this soon after a crash


async def run_backfill(settings: Settings, *, exchange: Any = None, days: int = 180,
                       min_interval_s: float = 1.0, show_progress: bool = True,
                       lock_wait_seconds: float = LOCK_WAIT_SECONDS) -> int:
    from bot.db.config import close_db, init_db
    from bot.logging_setup import configure_logging

    configure_logging(settings.LOG_LEVEL, settings.secret_values(), settings.LOG_FORMAT, command_line=True)
    await init_db(settings.DATABASE_URL)
    redis = Redis.from_url(settings.REDIS_URL) if settings.REDIS_URL else None
    try:
        lock = build_job_lock(redis, "backfill")
        async with hold_waiting(lock, SYNC_LOCK_NAME, LOCK_TTL_SECONDS, wait_seconds=lock_wait_seconds,
                                on_wait=lambda: print("waiting for the running bot's sync cycle to finish…",
                                                      flush=True)) as held:
            if not held:
                print(f"backfill: the running bot has been syncing this account for {lock_wait_seconds:g} s "
                      f"(lock {SYNC_LOCK_NAME!r}); run the back-fill again when its cycle ends", file=sys.stderr)
                return 2
            # The history pace (1 request a second) holds across the hand-over too: the previous
            # holder may have just asked, and the next one may ask the moment the lock is free.
            await asyncio.sleep(min_interval_s)
            code = await _walk(settings, exchange, days, min_interval_s, show_progress)
            await asyncio.sleep(min_interval_s)
            return code
    finally:
        if redis is not None:
            await redis.aclose()
        await close_db()


async def _walk(settings: Settings, exchange: Any, days: int, min_interval_s: float, show_progress: bool) -> int:
    from bot.db.repositories import OrderRepository
    from bot.services.backfill import HistoryBackfill
    from bot.services.events import EventBus
    from bot.services.sync import HISTORY_CURSOR, SyncService

    own_exchange = exchange is None
    bar: tqdm[Any] | None = None
    try:
        if exchange is None:
            from bot.exchange.factory import build_exchange

            exchange = build_exchange(settings)
        sync = SyncService(exchange, EventBus(), OrderRepository(exchange.mode), None,
                           history_min_interval_s=min_interval_s, backfill_days=days)
        cursor = await sync.cursors.get(HISTORY_CURSOR)
        if cursor is not None:
            # Fills after the bot began watching stay "watched"; older ones are history only.
            sync.watch_started_ns = int(cursor.data.get("watch_started_ns", cursor.value))
        backfill = HistoryBackfill(sync, days=days)
        progress = await backfill.progress()
        if progress.done:
            print(f"back-fill already complete: {progress.orders_seen} orders read")
            return 0
        bar = tqdm(total=progress.windows_total, initial=progress.windows_done, unit="day",
                   desc="order history", disable=not show_progress)
        stored_before = await sync.repo.count()

        def advance(step: Any) -> None:
            assert bar is not None
            bar.update(step.windows_done - bar.n)
            bar.set_postfix(orders=step.orders_seen)

        result = await backfill.run(on_window=advance)
        bar.close()
        stored = await sync.repo.count() - stored_before
        print(f"back-fill complete: {result.orders_seen} orders read, {stored} new in the database")
        return 0
    except (asyncio.CancelledError, KeyboardInterrupt):
        if bar is not None:
            bar.close()
        print("back-fill interrupted; run it again to resume where it stopped")
        raise
    finally:
        if own_exchange and exchange is not None:
            await exchange.close()
