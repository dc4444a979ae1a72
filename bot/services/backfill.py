"""Back-fill: walk the whole available order history (about 6 months) into the database.

1-day windows, newest first, 100 orders a page, at most 1 history request a second. Progress is
saved after every window in the `backfill` SyncCursor, so an interrupted run resumes where it
stopped and a finished one costs nothing. Orders found here never trigger protection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.db.repositories import SyncCursorRepository
from bot.domain.orders import Order
from bot.services.history import DAY_NS, HistoryReader

BACKFILL_CURSOR = "backfill"


class HistorySink(Protocol):
    """What the back-fill needs of the sync: its history reader and cursors, when it began
    watching, its clock, and the bulk ingest of one history page."""
    history: HistoryReader
    cursors: SyncCursorRepository
    watch_started_ns: int | None
    clock: Callable[[], int]

    async def ingest_page(self, orders: list[Order]) -> None: ...


@dataclass(frozen=True)
class BackfillProgress:
    windows_done: int
    windows_total: int
    orders_seen: int
    done: bool


class HistoryBackfill:
    def __init__(self, sync: HistorySink, *, days: int = 180, window_ns: int = DAY_NS) -> None:
        self.sync = sync
        self.cursors = sync.cursors
        self.days = days
        self.window_ns = window_ns

    async def _state(self) -> tuple[int, int, int, int, bool]:
        """(upper, floor, next_end, orders_seen, done): the span to walk and how far it got."""
        cursor = await self.cursors.get(BACKFILL_CURSOR)
        if cursor is None:
            upper = self.sync.watch_started_ns or self.sync.clock()
            floor = upper - self.days * DAY_NS
            await self.cursors.save(BACKFILL_CURSOR, upper,
                                        {"upper_ns": upper, "floor_ns": floor, "orders": 0, "done": False})
            return upper, floor, upper, 0, False
        data = cursor.data
        return (int(data["upper_ns"]), int(data["floor_ns"]), cursor.value, int(data.get("orders", 0)),
                bool(data.get("done", False)))

    def _count(self, upper: int, floor: int, next_end: int) -> tuple[int, int]:
        total = -(-(upper - floor) // self.window_ns)
        done = -(-(upper - next_end) // self.window_ns)
        return done, total

    async def progress(self) -> BackfillProgress:
        upper, floor, next_end, seen, done = await self._state()
        windows_done, total = self._count(upper, floor, next_end)
        return BackfillProgress(windows_done, total, seen, done)

    async def run(self, *, max_calls: int | None = None,
                  on_window: Callable[[BackfillProgress], None] | None = None) -> BackfillProgress:
        """Walk the remaining windows (all, or until `max_calls` history requests were spent)."""
        upper, floor, next_end, seen, done = await self._state()
        calls = 0
        while not done:
            if max_calls is not None and calls >= max_calls:
                break
            lower = max(floor, next_end - self.window_ns)
            read = await self.sync.history.read_window(lower, next_end, self.sync.ingest_page, background=True)
            seen, calls = seen + read.orders, calls + read.calls
            next_end = lower
            done = next_end <= floor
            # Saved per window: an interruption repeats at most one window (rows are written once).
            await self.cursors.save(BACKFILL_CURSOR, next_end,
                                        {"upper_ns": upper, "floor_ns": floor, "orders": seen, "done": done})
            if on_window is not None:
                windows_done, total = self._count(upper, floor, next_end)
                on_window(BackfillProgress(windows_done, total, seen, done))
        windows_done, total = self._count(upper, floor, next_end)
        return BackfillProgress(windows_done, total, seen, done)
