"""Single-run locks for jobs: in-process by default, Redis when REDIS_URL is set.

A job that finds its lock taken skips the tick instead of queueing behind it (aiocron never
prevents overlap on its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any, Protocol


class JobLock(Protocol):
    def hold(self, name: str, ttl_seconds: float) -> contextlib.AbstractAsyncContextManager[bool]: ...


class LocalJobLock:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}

    @contextlib.asynccontextmanager
    async def hold(self, name: str, ttl_seconds: float) -> AsyncIterator[bool]:
        lock = self._locks.setdefault(name, asyncio.Lock())
        if lock.locked():
            yield False
            return
        async with lock:
            yield True


class RedisJobLock:
    def __init__(self, redis: Any, prefix: str = "cryptobot:lock:") -> None:
        self._redis = redis
        self._prefix = prefix
        self.owner = uuid.uuid4().hex

    @contextlib.asynccontextmanager
    async def hold(self, name: str, ttl_seconds: float) -> AsyncIterator[bool]:
        from redis.exceptions import LockError

        # A fresh Lock object per acquisition: its token lives in a thread-local that every
        # coroutine shares, so reusing one across tasks would let one task release another's lock.
        lock = self._redis.lock(self._prefix + name, timeout=ttl_seconds, blocking=False, thread_local=False)
        if not await lock.acquire():
            yield False
            return
        try:
            yield True
        finally:
            with contextlib.suppress(LockError):
                await lock.release()
