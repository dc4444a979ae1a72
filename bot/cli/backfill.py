"""`python -m bot backfill`: walk the whole order history into the database, with a progress bar.

Ctrl-C stops it; the next run resumes at the first window not finished (progress is in the
database after every window). Nothing found here places an order.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from tqdm import tqdm

from bot.settings import Settings

log = logging.getLogger(__name__)


async def run_backfill(settings: Settings, *, exchange: Any = None, days: int = 180,
                       min_interval_s: float = 1.0, show_progress: bool = True) -> int:
    from bot.db.config import close_db, init_db
    from bot.db.repositories import OrderRepository
    from bot.logging_setup import configure_logging
    from bot.services.backfill import HistoryBackfill
    from bot.services.events import EventBus
    from bot.services.sync import HISTORY_CURSOR, SyncService

    configure_logging(settings.LOG_LEVEL, settings.secret_values())
    await init_db(settings.DATABASE_URL)
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
        await close_db()
