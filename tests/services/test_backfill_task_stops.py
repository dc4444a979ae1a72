"""The back-fill task stops when told to, even when the cancellation reaches it as another error."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.exchange.errors import ExchangeError
from bot.jobs.backfill_job import run_backfill_task
from bot.services.locks import LocalJobLock


class CancellationTurnedIntoAnError:
    """A read that, cancelled, raises an error of its own (as a client library may do on close)."""
    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def run_backfill(self, **_: Any) -> Any:
        self.started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            raise ExchangeError("the exchange refused private/get-order-history (closed)") from None


async def test_a_backfill_told_to_stop_stops_instead_of_retrying_in_30_s() -> None:
    sync = CancellationTurnedIntoAnError()
    task = asyncio.create_task(run_backfill_task(sync, LocalJobLock(), retry_seconds=30))  # type: ignore[arg-type]
    await sync.started.wait()
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=2)
    assert done and task.cancelled()
