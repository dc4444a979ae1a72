"""Reading the exchange's order history: day windows, and a reader that pages one window backwards
at the exchange's pace. The sync reads the recent window with it, the back-fill (its own task) the
older ones: both share one reader, so together they keep to the exchange's 1 request/s."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.domain.orders import Order
from bot.exchange.base import Exchange

log = logging.getLogger(__name__)
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
        """Every final order created in [start, end), each handed once to `on_page`. `background`
        reads (the back-fill) give way to the others.

        Pages go backwards, newest first. The documented recipe (next end = the oldest time of the
        page, end exclusive) skips the orders that share that time but did not fit in the page, so
        the next page ends just after it instead and the orders already read are dropped. When a
        whole page shares one time (more orders in one instant than a page holds, e.g. an exchange
        stamping nanoseconds at millisecond precision), that instant is read coin by coin, for every
        coin met in the window so far (a burst that large comes from one account's usual coins)."""
        seen: set[str] = set()
        symbols: set[str] = set()
        total = calls = 0

        async def read(lower: int, upper: int, symbol: str | None) -> list[Order]:
            nonlocal total, calls
            await self._pace(background=background)
            page = await self.exchange.order_history(lower, upper, limit=self.page_limit, symbol=symbol)
            self.calls += 1
            calls += 1
            fresh = [o for o in page.orders if o.order_id not in seen]
            seen.update(o.order_id for o in fresh)
            symbols.update(o.symbol for o in page.orders)
            if fresh:
                await on_page(fresh)  # type: ignore[misc]
                total += len(fresh)
            return page.orders

        upper = end_ns
        while upper > start_ns:
            orders = await read(start_ns, upper, None)
            if len(orders) < self.page_limit:
                break
            oldest = min(o.create_time_ns for o in orders)
            if oldest + 1 < upper:
                upper = oldest + 1
                continue
            # A full page of one instant: time cannot page further there, a coin filter can.
            for symbol in sorted(symbols):
                if len(await read(oldest, oldest + 1, symbol)) >= self.page_limit:
                    log.warning("more than %d %s orders at %d ns: the exchange cannot page them all",
                                self.page_limit, symbol, oldest)
            upper = oldest
        return WindowRead(total, calls)
