"""crypto.com Exchange v1 REST rate limits, per API key and per method: the one table the live
adapter's limiter and the simulator's 42901 answers both read (docs/cryptocom-exchange-v1.md,
sections 8 and 14, the official table restated in 2026).

Every method has its own allowance; nothing is shared between methods. That is why the adapter
does not use ccxt's limiter: ccxt keeps one bucket for all methods, so a cancel waited behind
unrelated reads although the exchange would have taken it at once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    requests: int
    window_seconds: float


FAST_WRITES = Limit(15, 0.1)
ORDER_DETAIL = Limit(30, 0.1)
HISTORY = Limit(1, 1.0)
# Every other private method, every `private/advanced/*` included (the advanced get-order-detail and
# get-order-history too: only the regular ones have their own rows).
OTHER_PRIVATE = Limit(3, 0.1)
PUBLIC = Limit(100, 1.0)          # per method and IP

PRIVATE_LIMITS: dict[str, Limit] = {
    "private/create-order": FAST_WRITES,
    "private/cancel-order": FAST_WRITES,
    "private/cancel-all-orders": FAST_WRITES,
    "private/get-order-detail": ORDER_DETAIL,
    "private/get-order-history": HISTORY,
    "private/get-trades": HISTORY,
}


def limit_for(method: str) -> Limit:
    if method.startswith("public/"):
        return PUBLIC
    return PRIVATE_LIMITS.get(method, OTHER_PRIVATE)
