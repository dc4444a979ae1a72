"""Leadership among replicas: exactly one runs the jobs, follows the order stream and polls Telegram.

With Redis, the leader holds a key with an expiry (a lease) naming its owner and a fencing token,
a number taken from a Redis counter (INCR) that only ever grows: every new leader has a larger
token than every earlier one. The leader renews the lease every third of its period; a replica
that dies stops renewing, the key expires and another takes it within two periods.

A leader that was paused (SIGSTOP, a long GC, a VM stall) past its lease may wake up believing it
still leads. It is fenced: `check()` runs before every exchange write and at every job's commit,
and refuses unless the lease is still valid by this process's own monotonic clock (which kept
running while it was paused) and Redis still names this replica's token. A pause between the check
and the request itself cannot be fenced by us (the exchange does not know our tokens); there the
deterministic client_oid makes the exchange refuse a second copy of the same order.

Without Redis there is one process: it is always the leader (`SoleLeadership`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)

LEADER_KEY = "cryptobot:leader"
FENCE_KEY = "cryptobot:leader:fence"
# The share of the lease this process trusts by its own clock: the key was set after the request
# left, so it expires no earlier than `sent + ttl`; the rest covers clock-rate drift.
TRUSTED_SHARE = 0.9

# Acquire: only when nobody holds the key; the token comes from the counter in the same step.
_ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return nil end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. token, 'PX', ARGV[2])
return token
"""
# Renew or release: only while the key still names us (never extend or delete another's lease).
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""



class LeadershipLost(Exception):
    """This replica is no longer the leader: a duty's write or commit was refused."""

    def __init__(self, token: int | None, detail: str) -> None:
        super().__init__(f"leadership lost (token {token}): {detail}")
        self.token = token


class Fence(Protocol):
    async def check(self) -> int: ...


# Set inside a leader's duties (jobs, the order stream, and every task they create): their exchange
# writes and commits are fenced. A user's own action (a button answered by whichever replica got the
# update) runs outside and is not.
_DUTY: contextvars.ContextVar[Fence | None] = contextvars.ContextVar("leader_duty", default=None)


@contextlib.contextmanager
def leader_duty(fence: Fence | None) -> Iterator[None]:
    """Run the block (and the tasks created in it) as a duty of the leader holding `fence`."""
    reset = _DUTY.set(fence)
    try:
        yield
    finally:
        _DUTY.reset(reset)


async def check_fence() -> None:
    """Before a duty writes to the exchange or commits: refuse (`LeadershipLost`) if it lost leadership."""
    fence = _DUTY.get()
    if fence is not None:
        await fence.check()


Callback = Callable[[int], Awaitable[None]]


class Leadership(Protocol):
    @property
    def is_leader(self) -> bool: ...
    @property
    def token(self) -> int | None: ...
    async def check(self) -> int: ...
    async def run(self, on_elected: Callback, on_deposed: Callback) -> None: ...
    async def release(self) -> None: ...
    def as_dict(self) -> dict[str, Any]: ...


@dataclass
class LeadershipState:
    leader: bool = False
    token: int | None = None
    elected_at: float | None = None          # wall clock, for /healthz and /metrics
    elections: int = 0
    depositions: int = 0


class SoleLeadership:
    """One process, no Redis: always the leader, with token 0."""

    def __init__(self) -> None:
        self.state = LeadershipState()

    @property
    def is_leader(self) -> bool:
        return self.state.leader

    @property
    def token(self) -> int | None:
        return self.state.token

    async def check(self) -> int:
        return 0

    async def run(self, on_elected: Callback, on_deposed: Callback) -> None:
        self.state = LeadershipState(leader=True, token=0, elected_at=time.time(), elections=1)
        await on_elected(0)
        await asyncio.Event().wait()

    async def release(self) -> None:
        return None

    def as_dict(self) -> dict[str, Any]:
        return {"backend": "none (one process)", "leader": self.state.leader, "token": self.state.token}


class RedisLeadership:
    def __init__(self, redis: Any, *, ttl_seconds: float, key: str = LEADER_KEY, fence_key: str = FENCE_KEY,
                 owner: str | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._redis = redis
        self.ttl_seconds = ttl_seconds
        self.key = key
        self.fence_key = fence_key
        self.owner = owner or uuid.uuid4().hex[:12]
        self._clock = clock
        self._valid_until = 0.0
        self._value: str | None = None
        self.state = LeadershipState()
        self._unreachable_since: float | None = None      # monotonic, while Redis does not answer
        self._unreachable_told = 0.0
        self._acquire = redis.register_script(_ACQUIRE)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    @property
    def is_leader(self) -> bool:
        """Leader by this process's clock: a lease renewed recently enough."""
        return self._value is not None and self._clock() < self._valid_until

    @property
    def token(self) -> int | None:
        return self.state.token if self._value is not None else None

    @property
    def ttl_ms(self) -> int:
        return max(1, int(self.ttl_seconds * 1000))

    async def try_acquire(self) -> bool:
        sent = self._clock()
        token = await self._acquire(keys=[self.key, self.fence_key], args=[self.owner, self.ttl_ms])
        if token is None:
            return False
        self._value = f"{self.owner}:{int(token)}"
        self._valid_until = sent + self.ttl_seconds * TRUSTED_SHARE
        self.state = LeadershipState(leader=True, token=int(token), elected_at=time.time(),
                                     elections=self.state.elections + 1, depositions=self.state.depositions)
        return True

    async def renew(self) -> bool:
        """Extend the lease; False when the key no longer names us (expired, taken by another)."""
        if self._value is None:
            return False
        if self._clock() >= self._valid_until:
            # Past our own lease (paused, or Redis slow): another may already hold it. Never extend
            # a lease we cannot vouch for; stand down and compete again like everyone else.
            return False
        sent = self._clock()
        if not await self._renew(keys=[self.key], args=[self._value, self.ttl_ms]):
            return False
        self._valid_until = sent + self.ttl_seconds * TRUSTED_SHARE
        return True

    async def check(self) -> int:
        """The fencing token, if this replica may still write as the leader; else `LeadershipLost`."""
        token = self.token
        if token is None or not self.is_leader:
            raise LeadershipLost(token, "lease expired by this process's clock")
        try:
            current = await self._redis.get(self.key)
        except Exception as exc:
            # Redis unreachable: nobody can take the lease from us before it expires, and that
            # expiry is what `is_leader` just checked.
            log.warning("leadership check without Redis (%s): trusting the lease until it expires",
                        type(exc).__name__)
            return token
        if current != self._value:
            raise LeadershipLost(token, f"Redis names {current or 'nobody'}")
        return token

    async def release(self) -> None:
        """Step down (orderly shutdown): another replica takes over at once instead of after expiry."""
        value, self._value = self._value, None
        if value is not None:
            with contextlib.suppress(Exception):
                await self._release(keys=[self.key], args=[value])

    async def run(self, on_elected: Callback, on_deposed: Callback) -> None:
        """Compete for the lease and keep it while alive; call back on every change. Runs until cancelled."""
        period = self.ttl_seconds / 3
        while True:
            await self._step(on_elected, on_deposed)
            await asyncio.sleep(period)

    async def _step(self, on_elected: Callback, on_deposed: Callback) -> None:
        # A Redis that stopped answering must not hold the loop past the lease: bounded waits.
        patience = self.ttl_seconds / 3
        try:
            if self.state.leader:
                if not await asyncio.wait_for(self.renew(), patience):
                    await self._depose(on_deposed, "lease lost")
            elif await asyncio.wait_for(self.try_acquire(), patience):
                log.info("leadership acquired (token %d, lease %.1f s)", self.state.token, self.ttl_seconds)
                await on_elected(self.state.token or 0)
            if self._unreachable_since is not None:
                log.info("leadership: Redis answers again (after %.0f s)", time.monotonic() - self._unreachable_since)
                self._unreachable_since = None
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Told when it starts and once a minute while it lasts, not at every step (3 a lease).
            now = time.monotonic()
            if self._unreachable_since is None or now - self._unreachable_told >= 60:
                log.warning("leadership: Redis unreachable (%s)%s", type(exc).__name__,
                            "" if self._unreachable_since is None else
                            f" for {now - self._unreachable_since:.0f} s; nobody leads until it answers")
                self._unreachable_told = now
            if self._unreachable_since is None:
                self._unreachable_since = now
            if self.state.leader and not self.is_leader:
                await self._depose(on_deposed, "lease expired while Redis was unreachable")

    async def _depose(self, on_deposed: Callback, why: str) -> None:
        token = self.state.token or 0
        self._value = None
        self.state.leader = False
        self.state.depositions += 1
        log.warning("leadership lost (token %d): %s; duties stopped", token, why)
        await on_deposed(token)

    def as_dict(self) -> dict[str, Any]:
        return {"backend": "redis", "leader": self.is_leader, "token": self.token,
                "lease_s": self.ttl_seconds, "elections": self.state.elections,
                "depositions": self.state.depositions}
