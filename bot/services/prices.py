"""Last prices of every market, read once and reused for a few seconds by the views.

A page of /orders values hundreds of orders; one `tickers` call serves them all, and a refresh
within the same few seconds costs nothing. When the exchange does not answer the views show no
price (never a stale one presented as current), and say since when they could not read it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from decimal import Decimal

from bot.exchange.base import Exchange
from bot.exchange.errors import ExchangeError

log = logging.getLogger(__name__)


class PriceBoard:
    def __init__(self, exchange: Exchange, *, max_age_s: float = 15.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.exchange = exchange
        self.max_age_s = max_age_s
        self.clock = clock
        self._prices: dict[str, Decimal] = {}
        self._read_at: float | None = None
        self._lock = asyncio.Lock()
        self.reachable: bool | None = None        # None: never asked yet

    async def last_prices(self, *, refresh: bool = False) -> dict[str, Decimal]:
        async with self._lock:
            fresh = self._read_at is not None and self.clock() - self._read_at < self.max_age_s
            if fresh and not refresh:
                return self._prices
            try:
                tickers = await self.exchange.tickers()
            except ExchangeError as exc:
                log.warning("prices not read: %s", exc.reason)
                self.reachable = False
                self._prices, self._read_at = {}, None
                return self._prices
            self.reachable = True
            self._prices = {symbol: t.last for symbol, t in tickers.items() if t.last is not None and t.last > 0}
            self._read_at = self.clock()
            return self._prices
