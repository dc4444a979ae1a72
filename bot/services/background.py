"""Stopping a helper task from inside another one.

`task.cancel()` followed by `with suppress(CancelledError): await task` is a trap: if the *caller*
is cancelled while it waits (a shutdown landing in a `finally`), the suppress swallows the caller's
own cancellation, and the caller carries on as if nothing had been asked of it. A shutdown then
waits forever for a task that went back to sleep (seen: the history back-fill, whose lock release
sits in such a `finally`, kept retrying every 30 s after the bot was told to stop).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)


async def cancel_and_wait(task: asyncio.Future[Any]) -> None:
    """Cancel `task` and wait until it has ended. A cancellation of the caller meanwhile is raised
    here, never swallowed; how the task ended is retrieved (an error is logged, not raised)."""
    task.cancel()
    await asyncio.wait([task])
    if not task.cancelled() and task.exception() is not None:
        log.warning("background task ended with an error: %r", task.exception())


def stop_if_cancelled() -> None:
    """For a retry loop, after it caught an error: if its task was asked to stop meanwhile and the
    cancellation came back as some other error (a library that turns it into its own), stop now
    instead of retrying; a loop that sleeps between tries would otherwise outlive the shutdown."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
