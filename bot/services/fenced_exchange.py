"""An `Exchange` decorator that refuses a leader's duty writes once it is no longer the leader.

Reads pass straight through. A write made inside a leader's duty (`leadership.leader_duty`) first
checks the fencing token (`check_fence`): a replica that was paused past its lease, or lost Redis's
key to another, gets `LeadershipLost` instead of sending an order the new leader may send too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.services.leadership import check_fence

WRITES = frozenset({"create_order", "create_trigger_order", "create_oco", "cancel_oco", "create_otoco",
                    "cancel_otoco", "cancel_order"})


class FencedExchange:
    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.name = inner.name
        self.mode = inner.mode

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name in WRITES:
            return self._fenced(attr)
        return attr

    @staticmethod
    def _fenced(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            await check_fence()
            return await method(*args, **kwargs)

        return call
