"""A circuit breaker in front of the exchange: after repeated failures (5xx, timeouts, dropped
answers, 42901 storms) the bot stops writing and reads only now and then, until the exchange answers
again.

Closed: every call goes through; failures in a row are counted, any answer resets the count (a
refusal such as 306 is an answer). After `failures` in a row it opens. Open: writes are refused at
once (`CircuitOpen`, an `ExchangeUnavailable`: a protection waits in "placing" and is placed when the
exchange is back, looked up by client_oid first as always); reads are refused too until `retry_at`,
then one read goes through as a probe. A probe that succeeds closes the circuit; one that fails
opens it again for twice as long (up to `max_retry_s`), each wait jittered so replicas and restarts
don't probe in step. People are told once when it opens and once when it closes (by the leader).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.domain.events import ExchangeCircuitChanged
from bot.exchange.errors import ExchangeError, ExchangeUnavailable, RateLimited
from bot.services.events import EventBus
from bot.services.metered_exchange import CALLS

log = logging.getLogger(__name__)

WRITES = frozenset({"create_order", "create_trigger_order", "create_oco", "cancel_oco", "create_otoco",
                    "cancel_otoco", "cancel_order"})


class CircuitOpen(ExchangeUnavailable):
    """Not sent: the exchange has been failing and the circuit is open. Nothing happened there."""

    quiet = True            # expected while the exchange is down: a log line, not a traceback
    not_sent = True

    def __init__(self, retry_in_s: float) -> None:
        super().__init__(f"exchange circuit open: not sent (next try in {retry_in_s:.0f} s)")
        self.retry_in_s = retry_in_s


def counts_as_failure(error: BaseException) -> bool:
    """The exchange did not answer usefully: down, overloaded or throttling us."""
    # "Not sent" refusals (the circuit itself, the database down) say nothing about the exchange.
    return isinstance(error, (ExchangeUnavailable, RateLimited)) and not getattr(error, "not_sent", False)


def describe(error: BaseException) -> str:
    code = getattr(error, "code", None)
    return f"code {code}" if code else (getattr(error, "reason", None) or type(error).__name__)


@dataclass
class CircuitBreaker:
    failures: int = 5                     # in a row, to open
    retry_s: float = 5.0                  # first wait while open, doubled after each failed probe
    max_retry_s: float = 120.0
    jitter: float = 0.5                   # each wait is multiplied by a random factor in 1 ± jitter/2
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)
    state: str = "closed"                 # closed | open | half_open
    in_a_row: int = 0
    opened_at: float | None = None
    retry_at: float = 0.0
    current_wait_s: float = 0.0
    last_failure: str = ""
    last_open_s: float = 0.0              # how long the last opening lasted
    openings: int = 0

    def before(self, method: str) -> None:
        """Let the call go, or refuse it (`CircuitOpen`)."""
        if self.state == "closed":
            return
        now = self.clock()
        if method in WRITES or self.state == "half_open" or now < self.retry_at:
            raise CircuitOpen(max(0.0, self.retry_at - now))
        self.state = "half_open"          # this read is the probe; everything else waits for it

    def succeeded(self) -> bool:
        """An answer came back. True when this closes an open circuit."""
        self.in_a_row = 0
        if self.state == "closed":
            return False
        self.last_open_s = self.open_for_s()
        log.warning("exchange answers again: circuit closed after %.0f s", self.last_open_s)
        self.state, self.opened_at, self.current_wait_s = "closed", None, 0.0
        return True

    def failed(self, error: BaseException) -> bool:
        """A failure came back. True when this opens a closed circuit (a failed probe re-opens quietly)."""
        self.last_failure = describe(error)
        if self.state == "closed":
            self.in_a_row += 1
            if self.in_a_row < self.failures:
                return False
            self.openings += 1
            self.opened_at = self.clock()
            self.current_wait_s = self.retry_s
            self._open()
            log.warning("exchange failing (%d in a row, last: %s): circuit open, writes stopped, reads every "
                        "%.0f s", self.in_a_row, self.last_failure, self.retry_at - self.clock())
            return True
        self.current_wait_s = min(self.max_retry_s, self.current_wait_s * 2)
        self._open()
        return False

    def cancelled(self) -> None:
        """A probe that never finished (the caller was cancelled): let the next read probe instead."""
        if self.state == "half_open":
            self.state = "open"

    def _open(self) -> None:
        self.state = "open"
        spread = 1 + self.jitter * (self.rng.random() - 0.5)
        self.retry_at = self.clock() + self.current_wait_s * spread

    def open_for_s(self) -> float:
        return 0.0 if self.opened_at is None else self.clock() - self.opened_at

    def as_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"state": self.state, "failures_in_a_row": self.in_a_row,
                                 "openings": self.openings}
        if self.state != "closed":
            shown |= {"open_for_s": round(self.open_for_s(), 1),
                      "next_try_in_s": round(max(0.0, self.retry_at - self.clock()), 1),
                      "last_failure": self.last_failure}
        return shown


class GuardedExchange:
    """The exchange behind a `CircuitBreaker`; the changes are published as `ExchangeCircuitChanged`
    (when `tell()` says this replica speaks for the bot: the leader)."""

    def __init__(self, inner: Any, breaker: CircuitBreaker, events: EventBus | None = None, *,
                 tell: Callable[[], bool] = lambda: True) -> None:
        self._inner = inner
        self.breaker = breaker
        self._events = events
        self._tell = tell
        self.name = inner.name
        self.mode = inner.mode

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name in CALLS:
            return self._guarded(name, attr)
        return attr

    def _guarded(self, method: str, call: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def guarded(*args: Any, **kwargs: Any) -> Any:
            self.breaker.before(method)
            try:
                result = await call(*args, **kwargs)
            except BaseException as exc:
                if counts_as_failure(exc):
                    if self.breaker.failed(exc):
                        await self._publish(True)
                elif isinstance(exc, ExchangeError):
                    if self.breaker.succeeded():      # a refusal (306, 40101, ...) is an answer too
                        await self._publish(False)
                else:
                    self.breaker.cancelled()          # cancelled, or our own bug: no news of the exchange
                raise
            if self.breaker.succeeded():
                await self._publish(False)
            return result

        return guarded

    async def _publish(self, opened: bool) -> None:
        if self._events is None or not self._tell():
            return
        breaker = self.breaker
        await self._events.publish(ExchangeCircuitChanged(
            opened=opened, failures=breaker.failures, cause=breaker.last_failure,
            seconds_open=0.0 if opened else round(breaker.last_open_s, 1), mode=self.mode))
