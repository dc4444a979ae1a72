"""Waiting for something with a deadline that holds even when the thing ignores cancellation for a
while: asyncpg, cancelled in the middle of a query, first opens a new connection to ask the server
to cancel it, and that hangs as long as the database is unreachable. `asyncio.wait_for` would wait
for it; `within` gives up at the deadline and lets the abandoned call end on its own."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

_abandoned: set[asyncio.Future[Any]] = set()


async def within[T](call: Callable[[], Awaitable[T]], seconds: float) -> T:
    """`await call()`, or `TimeoutError` after `seconds` (the call is cancelled, not waited for)."""
    task = asyncio.ensure_future(call())
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.cancel()
        _abandoned.add(task)             # kept until it ends, its outcome retrieved (no warning)
        task.add_done_callback(_forget)
        raise TimeoutError
    return task.result()


def _forget(task: asyncio.Future[Any]) -> None:
    _abandoned.discard(task)
    if not task.cancelled():
        task.exception()
