"""crypto.com's per-key, per-method REST limits (docs/cryptocom-exchange-v1.md, section 8).

Sliding windows: a request over the limit is answered 42901 / HTTP 429 and not processed.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

# method -> (requests, window seconds)
FAST_WRITES = (15, 0.1)
PRIVATE_LIMITS: dict[str, tuple[int, float]] = {
    "private/create-order": FAST_WRITES,
    "private/cancel-order": FAST_WRITES,
    "private/cancel-all-orders": FAST_WRITES,
    "private/get-order-detail": (30, 0.1),
    "private/get-trades": (1, 1.0),
    "private/get-order-history": (1, 1.0),
    "private/advanced/get-order-history": (1, 1.0),
}
OTHER_PRIVATE = (3, 0.1)
PUBLIC = (100, 1.0)


def limit_for(method: str) -> tuple[int, float]:
    if method.startswith("public/"):
        return PUBLIC
    return PRIVATE_LIMITS.get(method, OTHER_PRIVATE)


class RateLimiter:
    def __init__(self, *, enabled: bool = True, clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = enabled
        self._clock = clock
        self._seen: dict[tuple[str, str], deque[float]] = {}
        self.refused = 0

    def allow(self, key: str, method: str) -> bool:
        if not self.enabled:
            return True
        count, window = limit_for(method)
        now = self._clock()
        seen = self._seen.setdefault((key, method), deque())
        while seen and now - seen[0] >= window:
            seen.popleft()
        if len(seen) >= count:
            self.refused += 1
            return False
        seen.append(now)
        return True
