"""Single-run locks for jobs: in-process by default, Redis when REDIS_URL is set.

A job that finds its lock taken skips the tick instead of queueing behind it (aiocron never
prevents overlap on its own). A Redis lock has a short expiry that its holder renews every third
of it while the job runs: a replica killed while holding one blocks the others for one expiry at
most, never for the whole length a long job might need.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any, Protocol

log = logging.getLogger(__name__)


class JobLock(Protocol):
    def hold(self, name: str, ttl_seconds: float, *,
             wait_seconds: float = 0) -> contextlib.AbstractAsyncContextManager[bool]: ...


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
        from redis.exceptions import LockError

        # A fresh Lock object per acquisition: its token lives in a thread-local that every
        # coroutine shares, so reusing one across tasks would let one task release another's lock.
        lock = self._redis.lock(self._prefix + name, timeout=ttl_seconds, blocking=False, thread_local=False,
                                sleep=0.05)
        acquired = (await lock.acquire(blocking=True, blocking_timeout=wait_seconds) if wait_seconds > 0
                    else await lock.acquire())
        if not acquired:
            yield False
            return
        renewal = asyncio.create_task(self._renew(lock, name, ttl_seconds), name=f"lock-renewal:{name}")
        try:
            yield True
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
            with contextlib.suppress(LockError, ConnectionError, OSError):
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
