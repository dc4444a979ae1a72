"""An `Exchange` decorator that counts every call to the exchange, its duration and its errors by
method and code, for /metrics. It sits innermost, so it counts what really went to the exchange
(not a write a fence or the circuit breaker refused before it left)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.services.metrics import Metrics

CALLS = frozenset({"instruments", "instrument", "ticker", "tickers", "candles", "balances", "open_orders",
                   "order_history", "order_detail", "create_order", "create_trigger_order", "create_oco",
                   "cancel_oco", "create_otoco", "cancel_otoco", "cancel_order"})


class MeteredExchange:
    def __init__(self, inner: Any, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics
        self.name = inner.name
        self.mode = inner.mode

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name in CALLS:
            return self._metered(name, attr)
        return attr

    def _metered(self, method: str, call: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def metered(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                result = await call(*args, **kwargs)
            except Exception as exc:
                self._metrics.exchange_call(method, time.perf_counter() - started, exc)
                raise
            self._metrics.exchange_call(method, time.perf_counter() - started, None)
            return result

        return metered
