"""Single-run locks for jobs: Redis when REDIS_URL is set, else a lease in the database
(`LocalJobLock` remains for in-process use).

A job that finds its lock taken skips the tick instead of queueing behind it (aiocron never
prevents overlap on its own). A Redis lock has a short expiry that its holder renews every third
of it while the job runs: a replica killed while holding one blocks the others for one expiry at
most, never for the whole length a long job might need. The database lease works the same way.

Both reach across processes, so `python -m bot backfill` and a running bot on the same database
(or Redis) share one sync lock and never page the exchange's order history at the same time (its
limit is 1 request a second; two processes pacing themselves separately meet 42901).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from tortoise.exceptions import IntegrityError

from bot.db.models import LockRecord
from bot.services.background import cancel_and_wait

log = logging.getLogger(__name__)
# One sync of the account at a time, whichever process runs it: the bot's cycle or the back-fill.
SYNC_LOCK_NAME = "sync-cycle"


class JobLock(Protocol):
    def hold(self, name: str, ttl_seconds: float, *,
             wait_seconds: float = 0) -> contextlib.AbstractAsyncContextManager[bool]: ...


def build_job_lock(redis: Any | None, role: str) -> JobLock:
    """The lock every process on this deployment shares: Redis when configured, else the database."""
    return RedisJobLock(redis) if redis is not None else DatabaseJobLock(role)


def owner_id(role: str) -> str:
    """Who holds a lock, readable in the `locks` table: `backfill@host:1234:1a2b3c4d`."""
    return f"{role}@{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LocalJobLock:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}

    @contextlib.asynccontextmanager
    async def hold(self, name: str, ttl_seconds: float, *, wait_seconds: float = 0) -> AsyncIterator[bool]:
        lock = self._locks.setdefault(name, asyncio.Lock())
        acquired = False
        if not lock.locked() or wait_seconds > 0:
            with contextlib.suppress(TimeoutError):
                acquired = await asyncio.wait_for(lock.acquire(), wait_seconds if lock.locked() else None)
        if not acquired:
            yield False
            return
        try:
            yield True
        finally:
            lock.release()


class RedisJobLock:
    def __init__(self, redis: Any, prefix: str = "cryptobot:lock:") -> None:
        self._redis = redis
        self._prefix = prefix
        self.owner = uuid.uuid4().hex

    @contextlib.asynccontextmanager
    async def hold(self, name: str, ttl_seconds: float, *, wait_seconds: float = 0) -> AsyncIterator[bool]:
        from redis.exceptions import LockError, RedisError

        # A fresh Lock object per acquisition: its token lives in a thread-local that every
        # coroutine shares, so reusing one across tasks would let one task release another's lock.
        lock = self._redis.lock(self._prefix + name, timeout=ttl_seconds, blocking=False, thread_local=False,
                                sleep=0.05)
        try:
            acquired = (await lock.acquire(blocking=True, blocking_timeout=wait_seconds) if wait_seconds > 0
                        else await lock.acquire())
        except (RedisError, OSError) as exc:
            # Redis unreachable: nobody can be sure the job is not running elsewhere; skip this time.
            log.warning("job lock %s unavailable (Redis: %s): skipped", name, type(exc).__name__)
            acquired = False
        if not acquired:
            yield False
            return
        renewal = asyncio.create_task(self._renew(lock, name, ttl_seconds), name=f"lock-renewal:{name}")
        try:
            yield True
        finally:
            try:
                await cancel_and_wait(renewal)
            finally:
                with contextlib.suppress(LockError, RedisError, OSError):
                    await lock.release()

    @staticmethod
    async def _renew(lock: Any, name: str, ttl_seconds: float) -> None:
        from redis.exceptions import LockError

        while True:
            await asyncio.sleep(ttl_seconds / 3)
            try:
                await lock.reacquire()
            except LockError:
                log.warning("job lock %s expired while held (another replica may run it now)", name)
                return
            except Exception as exc:
                # Redis unreachable: try again next time; the lock lapses on its own if it stays down.
                log.warning("job lock %s not renewed: %s", name, type(exc).__name__)


class DatabaseJobLock:
    """A lease in the `locks` table, for every process on the same database when there is no Redis.

    Held for `min(ttl_seconds, lease_seconds)` and renewed every third of that while its holder
    lives, so a process that dies (kill -9, power cut) frees it within one lease, however long the
    hold was meant to be.
    """

    def __init__(self, role: str = "bot", *, lease_seconds: float = 30.0, poll_seconds: float = 0.5) -> None:
        self.role = role
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds

    @contextlib.asynccontextmanager
    async def hold(self, name: str, ttl_seconds: float, *, wait_seconds: float = 0) -> AsyncIterator[bool]:
        lease = timedelta(seconds=min(ttl_seconds, self.lease_seconds))
        owner = owner_id(self.role)     # one per acquisition: two holds in one process exclude each other
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        while not await self._acquire(name, owner, lease):
            if loop.time() >= deadline:
                yield False
                return
            await asyncio.sleep(min(self.poll_seconds, max(0.0, deadline - loop.time())))
        renewal = asyncio.create_task(self._renew(name, owner, lease), name=f"lock-renewal:{name}")
        try:
            yield True
        finally:
            try:
                await cancel_and_wait(renewal)
            finally:
                await LockRecord.filter(name=name, owner=owner).delete()

    async def holder(self, name: str) -> str | None:
        """The owner of a live lease on `name`, if any."""
        record = await LockRecord.filter(name=name, expires_at__gt=datetime.now(UTC)).first()
        return record.owner if record else None

    @staticmethod
    async def _acquire(name: str, owner: str, lease: timedelta) -> bool:
        now = datetime.now(UTC)
        try:
            await LockRecord.create(name=name, owner=owner, expires_at=now + lease)
            return True
        except IntegrityError:
            # Taken, or left behind by a holder that died: only an expired lease changes hands, in
            # one conditional UPDATE, so two processes racing for it cannot both win.
            taken = await LockRecord.filter(name=name, expires_at__lte=now).update(owner=owner,
                                                                                  expires_at=now + lease)
            return taken == 1

    @staticmethod
    async def _renew(name: str, owner: str, lease: timedelta) -> None:
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            try:
                renewed = await LockRecord.filter(name=name, owner=owner).update(
                    expires_at=datetime.now(UTC) + lease)
            except Exception as exc:
                # The database unreachable: try again next time; the lease covers the gap or lapses.
                log.warning("job lock %s not renewed: %s", name, type(exc).__name__)
                continue
            if renewed != 1:
                log.warning("job lock %s expired while held (another process may run it now)", name)
                return


@contextlib.asynccontextmanager
async def hold_waiting(lock: JobLock, name: str, ttl_seconds: float, *, wait_seconds: float,
                       on_wait: Callable[[], object] | None = None) -> AsyncIterator[bool]:
    """`lock.hold`, waiting up to `wait_seconds` for the current holder to finish; `on_wait` is
    called once, when it has to wait. Yields whether the lock is held."""
    async with lock.hold(name, ttl_seconds) as held:
        if held:
            yield True
            return
    if on_wait is not None:
        on_wait()
    async with lock.hold(name, ttl_seconds, wait_seconds=wait_seconds) as held:
        yield held
