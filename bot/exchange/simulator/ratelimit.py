"""crypto.com's per-key, per-method REST limits as the simulator enforces them (the table is
bot/exchange/v1_limits.py, shared with the live adapter's limiter).

Sliding windows counted on arrival: a request over the limit is answered 42901 / HTTP 429 and
not processed.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from bot.exchange.v1_limits import limit_for


class RateLimiter:
    def __init__(self, *, enabled: bool = True, clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = enabled
        self._clock = clock
        self._seen: dict[tuple[str, str], deque[float]] = {}
        self.refused = 0

    def allow(self, key: str, method: str) -> bool:
        if not self.enabled:
            return True
        limit = limit_for(method)
        now = self._clock()
        seen = self._seen.setdefault((key, method), deque())
        while seen and now - seen[0] >= limit.window_seconds:
            seen.popleft()
        if len(seen) >= limit.requests:
            self.refused += 1
            return False
        seen.append(now)
        return True
