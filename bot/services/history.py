"""Reading the exchange's order history: day windows, and a reader that pages one window backwards
at the exchange's pace. The sync reads the recent window with it, the back-fill (its own task) the
older ones: both share one reader, so together they keep to the exchange's 1 request/s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.domain.orders import Order
from bot.exchange.base import Exchange

DAY_NS = 86_400 * 10**9


def order_time_ns(order: Order) -> int:
    """When the order last changed, as the exchange reports it (update time, else creation)."""
    if order.updated_at is not None:
        return int(order.updated_at.timestamp() * 1e9)
    return order.create_time_ns


def day_windows(start_ns: int, end_ns: int, window_ns: int = DAY_NS) -> list[tuple[int, int]]:
    """[start, end) cut into windows of at most `window_ns`, newest first (history pages backwards)."""
    windows = []
    upper = end_ns
    while upper > start_ns:
        lower = max(start_ns, upper - window_ns)
        windows.append((lower, upper))
        upper = lower
    return windows


@dataclass(frozen=True)
class WindowRead:
    orders: int             # orders handed to `on_page`
    calls: int              # history requests it took (the caller's own: the reader is shared)


class HistoryReader:
    """Pages `order_history` backwards through one window, keeping to the 1 request/s limit."""

    def __init__(self, exchange: Exchange, *, page_limit: int = 100, min_interval_s: float = 1.0,
                 sleep: Callable[[float], object] = asyncio.sleep) -> None:
        self.exchange = exchange
        self.page_limit = page_limit
        self.min_interval_s = min_interval_s
        self._sleep = sleep
        self._last_call = float("-inf")
        self._foreground_waiting = 0
        self.calls = 0

    async def _pace(self, *, background: bool) -> None:
        """Wait until a request may go. A foreground request (the sync's) goes at the first free
        slot; a background one (the back-fill's) also gives way to any foreground request waiting,
        so a cycle never waits more than one interval behind the back-fill. Plain sleeps: a
        cancelled wait (shutdown) ends at once and uses no slot."""
        if self.min_interval_s <= 0:
            return
        if not background:
            self._foreground_waiting += 1
        try:
            while True:
                now = time.monotonic()
                free_at = self._last_call + self.min_interval_s
                if free_at <= now and not (background and self._foreground_waiting):
                    self._last_call = now
                    return
                # A background request that finds the slot free but a foreground one waiting lets
                # that one wake up and take it first.
                await self._sleep(max(free_at - now, 0.01))  # type: ignore[misc]
        finally:
            if not background:
                self._foreground_waiting -= 1

    async def read_window(self, start_ns: int, end_ns: int,
                          on_page: Callable[[list[Order]], object], *, background: bool = False) -> WindowRead:
        """Every final order created in [start, end); `on_page` gets each page. `background` reads
        (the back-fill) give way to the others."""
        total = calls = 0
        upper = end_ns
        while upper > start_ns:
            await self._pace(background=background)
            page = await self.exchange.order_history(start_ns, upper, limit=self.page_limit)
            self.calls += 1
            calls += 1
            if page.orders:
                await on_page(page.orders)  # type: ignore[misc]
                total += len(page.orders)
            if len(page.orders) < self.page_limit:
                break
            oldest = min(o.create_time_ns for o in page.orders)
            next_end = page.next_end_ns if page.next_end_ns is not None else oldest
            if next_end >= upper:      # a page of identical timestamps: never loop on it
                next_end = upper - 1
            upper = next_end
        return WindowRead(total, calls)
