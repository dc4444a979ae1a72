"""The sync job: one cycle of `SyncService`, never two at once (also across processes with Redis)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.exchange.base import Exchange
from bot.services.events import EventBus
from bot.services.locks import JobLock
from bot.services.order_repository import OrderRepository
from bot.services.protection import ProtectionService
from bot.services.sync import SyncReport, SyncService

log = logging.getLogger(__name__)
SYNC_LOCK_NAME = "sync-cycle"


async def run_sync_cycle(sync: SyncService, lock: JobLock, *, ttl_seconds: float = 900) -> SyncReport | None:
    """Run one cycle, or skip (None) when another run still holds the lock."""
    async with lock.hold(SYNC_LOCK_NAME, ttl_seconds) as acquired:
        if not acquired:
            log.info("sync still running elsewhere: cycle skipped")
            return None
        report = await sync.run_cycle()
        log.info("sync: %d open, %d new, %d changed, %d history calls, %.2f s", report.open_orders,
                 report.new_orders, report.changed_orders, report.history_calls, report.duration_s)
        return report


def make_sync_job(sync: SyncService, lock: JobLock, *, ttl_seconds: float = 900) -> Callable[[], Awaitable[object]]:
    async def sync_job() -> object:
        return await run_sync_cycle(sync, lock, ttl_seconds=ttl_seconds)

    return sync_job


def register_sync_job(services: dict[str, Any], sync: SyncService, lock: JobLock) -> None:
    """Put the job where `bot/jobs/registry.py` looks for it (`services["sync_job"]`)."""
    services["sync_job"] = make_sync_job(sync, lock)
    services["sync"] = sync


def build_sync(exchange: Exchange, events: EventBus, *, account: str = "main",
               backfill_calls_per_cycle: int | None = None) -> tuple[SyncService, ProtectionService]:
    """The sync and protection services for one exchange account, wired to each other."""
    repository = OrderRepository(exchange.mode, account)
    protection = ProtectionService(exchange, repository, events)
    sync = SyncService(exchange, events, repository, protection, backfill_calls_per_cycle=backfill_calls_per_cycle)
    return sync, protection


def start_order_stream(sync: SyncService) -> asyncio.Task[None]:
    """Follow the exchange's order stream in the background (create after Tortoise.init)."""
    return asyncio.create_task(sync.follow_order_stream(), name="order-stream")
