"""Which Telegram updates were already taken, across replicas: each `update_id` is handled once.

Telegram delivers an update again when its webhook call timed out or failed, and behind a load
balancer the second delivery may reach another replica. The first replica to record an id takes
it (Redis `SET NX` with an expiry longer than Telegram keeps retrying); without Redis, one process
remembers the recent ids itself.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

KEY = "cryptobot:update:"
KEEP_SECONDS = 24 * 3600          # Telegram gives up on an undelivered update long before
LOCAL_KEEP = 10_000


class UpdateLedger:
    def __init__(self, redis: Any | None = None) -> None:
        self._redis = redis
        self._seen: OrderedDict[int, None] = OrderedDict()

    async def first_time(self, update_id: int) -> bool:
        """True for the first delivery of `update_id` (this caller handles it), False for a repeat."""
        if self._redis is not None:
            return bool(await self._redis.set(f"{KEY}{update_id}", "1", nx=True, ex=KEEP_SECONDS))
        if update_id in self._seen:
            return False
        self._seen[update_id] = None
        while len(self._seen) > LOCAL_KEEP:
            self._seen.popitem(last=False)
        return True
