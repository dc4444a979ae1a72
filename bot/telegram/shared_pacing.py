"""The flood budget of one bot token, shared by every replica through Redis.

Telegram counts a bot's sends per token, not per process: N replicas each pacing itself to 28 a
second send N x 28, and two of them may answer one chat within the same second. Each send first
takes a grant here, in one Lua script, so the check and the taking cannot interleave between
replicas, and on Redis's clock (`TIME`), so the replicas' own clocks need not agree:
- `sends` (a sorted set): one member per send, scored with the moment it stops counting. A send on
  the way counts until `LEASE_SECONDS` (a replica that dies mid-send frees its slot by then), and
  once it came back, until a second after that, as the local pacer counts.
- `chat:<id>`: when the chat is free again, with the same expiry; a second (the per-chat interval)
  after the chat's previous send came back, whichever replica sent it.
- `pause`: set on a 429 for `retry_after`; every replica waits it out.

Redis is help, not a gate: when it does not answer (within `PATIENCE_SECONDS`), the send goes with
the local pacing alone, said once; Redis is asked again after `RETRY_SECONDS`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PREFIX = "cryptobot:pacing:"
LEASE_SECONDS = 5.0         # how long a send on the way counts at most (its replica may have died)
PATIENCE_SECONDS = 1.0      # a Redis slower than this is treated as gone (a busy loop once took 0.5)
RETRY_SECONDS = 5.0         # after a failure, how long the local pacing alone decides

# A grant (0), or how many ms to wait before asking again: exact for the pause, and for a chat or
# the window while the send that holds it has come back; while it is still on the way (its lease
# is far ahead), the least it can be (an interval, a second, after it comes back, which is not yet).
_TAKE = """
local t = redis.call('TIME')
local now = math.floor(t[1] * 1000 + t[2] / 1000)
local lease, per_chat = tonumber(ARGV[2]), tonumber(ARGV[4])
local wait = redis.call('PTTL', KEYS[3])
local chat_free = tonumber(redis.call('GET', KEYS[2]) or '0')
wait = math.max(wait, math.min(chat_free - now, per_chat))
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local first = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
  wait = math.max(wait, math.min(first - now, 1000))
end
if wait > 0 then return wait end
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease + 1000)
redis.call('SET', KEYS[2], now + lease, 'PX', lease)
return 0
"""
# The send came back: it counts for one more second, and its chat is free an interval from now.
_SENT = """
local t = redis.call('TIME')
local now = math.floor(t[1] * 1000 + t[2] / 1000)
local lease = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + 1000, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease + 1000)
redis.call('SET', KEYS[2], now + tonumber(ARGV[3]), 'PX', ARGV[3])
return 0
"""
# Never shortens a longer pause another replica was told.
_PAUSE = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end
return 0
"""


@dataclass(frozen=True)
class RedisGrant:
    budget: RedisSendBudget
    sends_key: str
    chat_key: str
    member: str

    async def sent(self) -> None:
        await self.budget.sent(self)


class RedisSendBudget:
    def __init__(self, redis: Any, *, per_chat_interval: float, global_per_second: int, prefix: str = PREFIX,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_chat_ms = max(1, round(per_chat_interval * 1000))
        self.global_per_second = global_per_second
        self.prefix = prefix
        self.clock = clock
        self.round_trips = 0                    # scripts run (for benchmarks)
        self._owner = uuid.uuid4().hex[:12]
        self._sends = 0
        self._down_since: float | None = None  # while Redis does not answer
        self._retry_at = 0.0
        self._take = redis.register_script(_TAKE)
        self._sent = redis.register_script(_SENT)
        self._pause = redis.register_script(_PAUSE)

    @property
    def lease_ms(self) -> int:
        return round(LEASE_SECONDS * 1000)

    async def take(self, bot_id: int, chat_id: Any) -> RedisGrant | None:
        """Wait until every replica's sends leave room for one more in this chat, and take it; None
        when Redis does not answer (the caller paces locally)."""
        self._sends += 1
        grant = RedisGrant(self, f"{self.prefix}{bot_id}:sends", f"{self.prefix}{bot_id}:chat:{chat_id}",
                           f"{self._owner}:{self._sends}")
        pause_key = f"{self.prefix}{bot_id}:pause"
        while True:
            wait_ms = await self._run(self._take, [grant.sends_key, grant.chat_key, pause_key],
                                      [grant.member, self.lease_ms, self.global_per_second, self.per_chat_ms])
            if wait_ms is None:
                return None
            if int(wait_ms) <= 0:
                return grant
            await asyncio.sleep(int(wait_ms) / 1000)

    async def sent(self, grant: RedisGrant) -> None:
        await self._run(self._sent, [grant.sends_key, grant.chat_key], [grant.member, self.lease_ms, self.per_chat_ms])

    async def pause(self, bot_id: int, seconds: float) -> None:
        """Make every replica wait `seconds` (Telegram's retry_after) before its next send."""
        await self._run(self._pause, [f"{self.prefix}{bot_id}:pause"], [max(1, math.ceil(seconds * 1000))])

    async def _run(self, script: Any, keys: list[str], args: list[Any]) -> Any | None:
        if self._down_since is not None and self.clock() < self._retry_at:
            return None
        self.round_trips += 1
        try:
            # Bounded: a Redis that stopped answering must not hold an answer for its socket timeout.
            result = await asyncio.wait_for(script(keys=keys, args=args), PATIENCE_SECONDS)
        except (RedisError, OSError, TimeoutError) as exc:
            if self._down_since is None:
                log.warning("send pacing: Redis unreachable (%s); this replica paces its sends alone until it "
                            "answers", type(exc).__name__)
                self._down_since = self.clock()
            self._retry_at = self.clock() + RETRY_SECONDS
            return None
        if self._down_since is not None:
            log.info("send pacing: Redis answers again (after %.0f s); the budget is shared again",
                     self.clock() - self._down_since)
            self._down_since = None
        return result
