"""Periodic jobs on aiocron, with no overlap and a record of each job's last run.

aiocron neither prevents overlap nor skips missed ticks (it replays them in a burst), so every
tick goes through a lock that *skips* when the previous run still holds it. With several replicas
only the leader runs jobs: a tick elsewhere (a leader that was paused and does not know yet that it
was replaced) is skipped, and a run that ends after its leadership did is not committed as a run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import aiocron

from bot.domain.schedule import cron_period
from bot.exchange.errors import ExchangeError
from bot.services.leadership import Leadership, LeadershipLost, check_fence, leader_duty
from bot.services.locks import JobLock

log = logging.getLogger(__name__)


def interval_spec(seconds: int) -> str:
    """An aiocron (cronsim, seconds first) spec that fires every `seconds` (see bot/domain/schedule.py)."""
    period = cron_period(seconds)
    if period is None:
        raise ValueError(f"{seconds} s cannot be expressed as a cron interval; use a divisor of 60 s, 60 min or 24 h")
    unit, count = period
    if unit == 1:
        return f"*/{count} * * * * *"
    if unit == 60:
        return f"0 */{count} * * * *"
    return f"0 0 */{count} * * *"


@dataclass
class JobStatus:
    name: str
    spec: str
    runs: int = 0
    skipped: int = 0
    failures: int = 0
    fenced: int = 0                 # runs that finished after this replica's leadership ended
    last_started: datetime | None = None
    last_finished: datetime | None = None
    last_duration_s: float | None = None
    last_error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "spec": self.spec, "runs": self.runs, "skipped": self.skipped, "failures": self.failures,
            "fenced": self.fenced,
            "last_started": self.last_started.isoformat() if self.last_started else None,
            "last_finished": self.last_finished.isoformat() if self.last_finished else None,
            "last_duration_s": None if self.last_duration_s is None else round(self.last_duration_s, 3),
            "last_error": self.last_error,
        }


@dataclass
class JobScheduler:
    lock: JobLock
    timezone: str = "UTC"
    leadership: Leadership | None = None
    lock_seconds: float = 15        # renewed while the job runs (RedisJobLock)
    # Told of every tick: (job, outcome, seconds or None); outcome ok | failed | fenced | skipped |
    # not_leader (the metrics count them).
    observer: Callable[[str, str, float | None], None] | None = None
    status: dict[str, JobStatus] = field(default_factory=dict)
    _crons: list[aiocron.Cron] = field(default_factory=list)
    _running: set[asyncio.Task[None]] = field(default_factory=set)

    def add(self, name: str, spec: str, job: Callable[[], Awaitable[object]], *,
            ttl_seconds: float | None = None) -> None:
        # Added again on every election: the counts go on.
        self.status.setdefault(name, JobStatus(name=name, spec=spec)).spec = spec

        async def tick() -> None:
            task = asyncio.current_task()
            if task is not None:
                self._running.add(task)
            try:
                await self.run_now(name, job, ttl_seconds=ttl_seconds)
            finally:
                if task is not None:
                    self._running.discard(task)

        # Created inside the running loop (aiocron binds the loop at construction).
        self._crons.append(aiocron.crontab(spec, func=tick, start=True, tz=ZoneInfo(self.timezone)))

    async def run_now(self, name: str, job: Callable[[], Awaitable[object]], *,
                      ttl_seconds: float | None = None, wait_seconds: float = 0) -> bool:
        """Run `job` once, unless another run holds its lock (after waiting up to `wait_seconds` for it:
        a new leader's catch-up waits out the lock a dead leader left behind)."""
        status = self.status.setdefault(name, JobStatus(name=name, spec="manual"))
        if self.leadership is not None and not self.leadership.is_leader:
            status.skipped += 1
            log.info("job %s: this replica is not the leader: tick skipped", name)
            self._observe(name, "not_leader", None)
            return False
        async with self.lock.hold(f"job:{name}", ttl_seconds or self.lock_seconds,
                                  wait_seconds=wait_seconds) as acquired:
            if not acquired:
                status.skipped += 1
                log.info("job %s still running: tick skipped", name)
                self._observe(name, "skipped", None)
                return False
            status.last_started = datetime.now(UTC)
            started = time.perf_counter()
            outcome = "failed"
            try:
                with leader_duty(self.leadership):
                    await job()
                    await check_fence()          # the commit: only a leader's run counts
                status.last_error = None
                outcome = "ok"
                return True
            except asyncio.CancelledError:
                outcome = "cancelled"
                raise
            except LeadershipLost as exc:
                status.fenced += 1
                status.last_error = str(exc)[:300]
                log.warning("job %s fenced off: %s", name, exc)
                outcome = "fenced"
                return False
            except Exception as exc:
                status.failures += 1
                status.last_error = f"{type(exc).__name__}: {exc}"[:300]
                if getattr(exc, "quiet", False):     # expected for now (the exchange's circuit is open)
                    log.warning("job %s not run through: %s", name, exc)
                elif isinstance(exc, ExchangeError):
                    # The exchange's answer (42901, a timeout, a 5xx) says it all: the next tick retries,
                    # and a traceback would only bury it.
                    log.warning("job %s failed: %s; next tick retries", name, status.last_error)
                else:
                    log.exception("job %s failed", name)
                return False
            finally:
                status.runs += 1
                status.last_finished = datetime.now(UTC)
                status.last_duration_s = time.perf_counter() - started
                self._observe(name, outcome, status.last_duration_s)

    def _observe(self, name: str, outcome: str, seconds: float | None) -> None:
        if self.observer is not None:
            try:
                self.observer(name, outcome, seconds)
            except Exception:
                log.exception("job observer failed")

    async def stop(self, grace_seconds: float = 10) -> None:
        """Stop firing; let running jobs finish within the grace period, then cancel them."""
        for cron in self._crons:
            cron.stop()
        self._crons.clear()
        running = [t for t in self._running if not t.done()]
        if running:
            _, pending = await asyncio.wait(running, timeout=grace_seconds)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
