"""An `Exchange` decorator that lets a write leave only when it is safe to send.

- A write made inside a leader's duty (`leadership.leader_duty`) first checks the fencing token
  (`check_fence`): a replica that was paused past its lease, or lost Redis's key to another, gets
  `LeadershipLost` instead of sending an order the new leader may send too.
- A new order is sent only while the database answers (`storage_probe`): an order the bot could not
  record is an order nobody follows, so with the database down it waits (`StorageUnavailable`, a
  "not sent" the callers retry) instead. Cancels always go: they only ever reduce what is at risk.
Reads pass straight through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.exchange.errors import ExchangeUnavailable
from bot.services.deadline import within
from bot.services.leadership import check_fence

WRITES = frozenset({"create_order", "create_trigger_order", "create_oco", "cancel_oco", "create_otoco",
                    "cancel_otoco", "cancel_order"})
PLACEMENTS = frozenset({"create_order", "create_trigger_order", "create_oco", "create_otoco"})
StorageProbe = Callable[[], Awaitable[object]]


class StorageUnavailable(ExchangeUnavailable):
    """Not sent: the database does not answer, so the order could not be recorded."""

    quiet = True            # expected while the database is down: a log line, not a traceback
    not_sent = True         # nothing reached the exchange (the circuit breaker does not count it)

    def __init__(self, cause: str) -> None:
        super().__init__(f"not sent: the database does not answer ({cause}), so the order could not be recorded")


class FencedExchange:
    def __init__(self, inner: Any, *, storage_probe: StorageProbe | None = None,
                 probe_timeout_s: float = 3.0) -> None:
        self._inner = inner
        self._storage_probe = storage_probe
        self._probe_timeout_s = probe_timeout_s
        self.name = inner.name
        self.mode = inner.mode

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name in WRITES:
            return self._fenced(attr, placement=name in PLACEMENTS)
        return attr

    def _fenced(self, method: Callable[..., Awaitable[Any]], *, placement: bool) -> Callable[..., Awaitable[Any]]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            await check_fence()
            if placement and self._storage_probe is not None:
                await self._storage_answers()
            return await method(*args, **kwargs)

        return call

    async def _storage_answers(self) -> None:
        assert self._storage_probe is not None
        try:
            await within(self._storage_probe, self._probe_timeout_s)
        except TimeoutError:
            raise StorageUnavailable("timeout") from None
        except Exception as exc:
            raise StorageUnavailable(type(exc).__name__) from exc
