"""Retention of the market cycles' records (SIGNAL_RETENTION_DAYS): an hourly job rolls up the
indicator snapshots and signal decisions older than that (see bot/db/repositories/retention.py),
and deletes action previews that were never confirmed and ended that long ago. Orders, executed
history, protection groups, portfolio snapshots and confirmed actions are never pruned."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.db.repositories import PendingActionRepository, RetentionRepository

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionReport:
    cutoff: datetime
    snapshots_deleted: int
    signals_deleted: int
    duration_s: float
    previews_deleted: int = 0


class RetentionService:
    def __init__(self, days: int, *, repository: RetentionRepository | None = None,
                 actions: PendingActionRepository | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.days = days
        self.repo = repository or RetentionRepository()
        self.actions = actions or PendingActionRepository()
        self.clock = clock

    async def run(self) -> RetentionReport:
        started = time.perf_counter()
        cutoff = self.clock() - timedelta(days=self.days)
        snapshots = await self.repo.prune_snapshots(cutoff)
        signals = await self.repo.roll_up_signals(cutoff)
        previews = await self.actions.delete_unused_before(cutoff)
        report = RetentionReport(cutoff, snapshots, signals, time.perf_counter() - started, previews)
        if snapshots or signals or previews:
            log.info("retention: %d indicator snapshots, %d signal decisions and %d unconfirmed action previews "
                     "older than %d days removed in %.2f s", snapshots, signals, previews, self.days,
                     report.duration_s)
        return report
