"""Jobs never run twice at once: in-process locks, Redis locks (real Redis in the second pass)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from cronsim import CronSim

from bot.exchange.errors import RateLimited
from bot.jobs.scheduler import JobScheduler, interval_spec
from bot.services.locks import DatabaseJobLock, LocalJobLock, RedisJobLock, hold_waiting


@pytest.mark.parametrize(("seconds", "spec"), [(30, "*/30 * * * * *"), (60, "0 */1 * * * *"),
                                                 (300, "0 */5 * * * *"), (5, "*/5 * * * * *")])
def test_interval_specs_fire_at_the_period(seconds: int, spec: str) -> None:
    from datetime import datetime

    assert interval_spec(seconds) == spec
    it = CronSim(spec, datetime(2026, 1, 1, 0, 0, 1))
    first, second = next(it), next(it)
    assert (second - first).total_seconds() == seconds


def test_interval_that_is_no_cron_period_is_refused() -> None:
    with pytest.raises(ValueError, match="divisor"):
        interval_spec(7 * 60)


async def test_local_lock_skips_a_second_holder() -> None:
    lock = LocalJobLock()
    async with lock.hold("sync", 10) as first, lock.hold("sync", 10) as second:
        assert first and not second
    async with lock.hold("sync", 10) as again:
        assert again


@pytest.mark.lock
async def test_redis_lock_skips_a_second_holder_across_instances(redis_client) -> None:
    replica_a, replica_b = RedisJobLock(redis_client), RedisJobLock(redis_client)
    async with replica_a.hold("sync", 10) as first, replica_b.hold("sync", 10) as second:
        assert first and not second
    async with replica_b.hold("sync", 10) as later:
        assert later


@pytest.mark.lock
async def test_redis_lock_expires_when_its_holder_dies(redis_client) -> None:
    crashed, survivor = RedisJobLock(redis_client), RedisJobLock(redis_client)
    lock = redis_client.lock("cryptobot:lock:sync", timeout=0.3, blocking=False, thread_local=False)
    assert await lock.acquire()          # a holder that never releases
    async with survivor.hold("sync", 10) as blocked:
        assert not blocked
    await asyncio.sleep(0.5)
    async with survivor.hold("sync", 10) as free:
        assert free
    del crashed


@pytest.mark.lock
async def test_overlapping_ticks_are_skipped_not_queued(redis_client) -> None:
    scheduler = JobScheduler(lock=RedisJobLock(redis_client))
    started = 0
    release = asyncio.Event()

    async def slow_job() -> None:
        nonlocal started
        started += 1
        await release.wait()

    first = asyncio.create_task(scheduler.run_now("sync", slow_job))
    await asyncio.sleep(0.05)
    assert await scheduler.run_now("sync", slow_job) is False
    release.set()
    assert await first is True
    assert started == 1
    assert scheduler.status["sync"].skipped == 1 and scheduler.status["sync"].runs == 1


async def test_a_failing_job_is_recorded_and_the_next_tick_runs() -> None:
    scheduler = JobScheduler(lock=LocalJobLock())

    async def broken() -> None:
        raise RuntimeError("exchange timeout")

    assert await scheduler.run_now("market", broken) is False
    status = scheduler.status["market"]
    assert status.failures == 1 and status.last_error == "RuntimeError: exchange timeout"

    async def healthy() -> None:
        return None

    assert await scheduler.run_now("market", healthy) is True
    assert status.runs == 2 and status.last_error is None


async def test_stop_lets_running_jobs_finish() -> None:
    scheduler = JobScheduler(lock=LocalJobLock())
    finished = asyncio.Event()

    async def job() -> None:
        await asyncio.sleep(0.1)
        finished.set()

    scheduler.add("quick", "* * * * * *", job)
    await asyncio.wait_for(finished.wait(), 3)
    await scheduler.stop(grace_seconds=2)
    assert scheduler.status["quick"].runs >= 1


async def test_an_exchange_refusal_in_a_job_is_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    scheduler = JobScheduler(lock=LocalJobLock())

    async def throttled() -> None:
        raise RateLimited("too many requests; slowing down", code="42901")

    with caplog.at_level("WARNING"):
        assert await scheduler.run_now("sync", throttled) is False
    [record] = [r for r in caplog.records if r.name == "bot.jobs.scheduler"]
    assert record.levelname == "WARNING" and record.exc_info is None
    assert "job sync failed: RateLimited: " in record.getMessage() and "\n" not in record.getMessage()


@pytest.mark.storage
async def test_database_lock_skips_a_second_holder_in_another_process(db: str) -> None:
    bot, backfill = DatabaseJobLock("bot"), DatabaseJobLock("backfill")     # as two processes would
    async with bot.hold("sync-cycle", 60) as first, backfill.hold("sync-cycle", 60) as second:
        assert first and not second
        assert (await backfill.holder("sync-cycle") or "").startswith("bot@")
    async with backfill.hold("sync-cycle", 60) as later:
        assert later
    assert await bot.holder("sync-cycle") is None


@pytest.mark.storage
async def test_database_lock_is_renewed_while_held_and_freed_when_its_holder_dies(db: str) -> None:
    holder, other = DatabaseJobLock("bot", lease_seconds=0.3), DatabaseJobLock("backfill", lease_seconds=0.3)
    async with holder.hold("sync-cycle", 60) as held:
        assert held
        await asyncio.sleep(0.8)                      # longer than the lease: renewals keep it
        async with other.hold("sync-cycle", 60) as stolen:
            assert not stolen
    from bot.db.models import LockRecord

    # A holder killed mid-hold leaves its row; once the lease runs out the lock changes hands.
    await LockRecord.create(name="sync-cycle", owner="bot@crashed:1:dead", expires_at=datetime.now(UTC))
    await asyncio.sleep(0.05)
    async with other.hold("sync-cycle", 60) as taken_over:
        assert taken_over


@pytest.mark.storage
async def test_hold_waiting_waits_for_the_holder_then_gives_up(db: str) -> None:
    bot, backfill = DatabaseJobLock("bot"), DatabaseJobLock("backfill", poll_seconds=0.05)
    told: list[str] = []
    async with bot.hold("sync-cycle", 60), hold_waiting(backfill, "sync-cycle", 60, wait_seconds=0.3,
                                                         on_wait=lambda: told.append("waiting")) as held:
        assert not held
    assert told == ["waiting"]

    async def short_cycle() -> None:
        async with bot.hold("sync-cycle", 60):
            await asyncio.sleep(0.2)

    cycle = asyncio.create_task(short_cycle())
    await asyncio.sleep(0.05)
    async with hold_waiting(backfill, "sync-cycle", 60, wait_seconds=5) as held:
        assert held and cycle.done()


async def _cancelled_while_letting_go(lock: DatabaseJobLock | RedisJobLock) -> asyncio.Task[None]:
    """A holder whose job fails, and which is told to stop (a shutdown) just as it lets go of its
    lock: the stop must not be lost. It was: the wait for the lock's renewal swallowed it, and the
    history back-fill went back to sleep for 30 s, again and again, while the bot waited to stop."""
    async def job() -> None:
        async with lock.hold("backfill", 30) as acquired:
            assert acquired
            asyncio.get_running_loop().call_soon(holder.cancel)     # lands during the release
            raise RuntimeError("the exchange refused")

    holder = asyncio.create_task(job())
    await asyncio.wait([holder])
    return holder


@pytest.mark.storage
async def test_a_database_lock_holder_stopped_while_letting_go_stays_stopped(db: str) -> None:
    lock = DatabaseJobLock("test")
    holder = await _cancelled_while_letting_go(lock)
    assert holder.cancelled()
    assert await lock.holder("backfill") is None          # released all the same


@pytest.mark.lock
async def test_a_redis_lock_holder_stopped_while_letting_go_stays_stopped(redis_client) -> None:
    holder = await _cancelled_while_letting_go(RedisJobLock(redis_client))
    assert holder.cancelled()
    async with RedisJobLock(redis_client).hold("backfill", 10) as free:
        assert free                                       # released all the same
