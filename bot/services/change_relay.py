"""Carries the Mini App's change topics between replicas over Redis pub/sub.

With several replicas only the leader syncs, so only its process sees fills and protections; a page
the reverse proxy served from another replica would never refresh by itself, and a watchlist edit
made on a follower would not refresh the leader's pages. Each replica publishes the topics its own
bus produced and hands on those the others published (its own come back too and are skipped: they
were delivered locally already). Best effort by design: a lost message costs a page one live
refresh, never data, so Redis trouble is logged and waited out, not raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
CHANNEL = "cryptobot:miniapp:changes"
RECONNECT_SECONDS = 1.0
MAX_RECONNECT_SECONDS = 60.0


class RedisChangeRelay:
    def __init__(self, redis: Redis, *, channel: str = CHANNEL, reconnect_seconds: float = RECONNECT_SECONDS) -> None:
        self.redis = redis
        self.channel = channel
        self.reconnect_seconds = reconnect_seconds
        self.origin = uuid.uuid4().hex
        self.subscribed = asyncio.Event()
        self._publish_failing = False

    async def publish(self, topics: tuple[str, ...]) -> None:
        try:
            await self.redis.publish(self.channel, json.dumps({"origin": self.origin, "topics": list(topics)}))
        except (RedisError, OSError) as exc:
            if not self._publish_failing:            # once an outage, not once a change
                log.warning("changes not relayed to other replicas (Redis: %s)", type(exc).__name__)
            self._publish_failing = True
        else:
            self._publish_failing = False

    async def follow(self, deliver: Callable[[tuple[str, ...]], None]) -> None:
        """Hand every other replica's topics to `deliver` until cancelled, subscribing again after a
        loss (waits doubling to a minute; told once when it stops and once when it is back)."""
        wait = self.reconnect_seconds
        down = False
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.subscribed.set()
                if down:
                    log.info("following other replicas' changes again")
                down, wait = False, self.reconnect_seconds
                async for message in pubsub.listen():
                    topics = self._topics_of(message)
                    if topics:
                        deliver(topics)
            except (RedisError, OSError) as exc:
                if not down:
                    log.warning("following other replicas' changes paused (Redis: %s); pages here refresh on "
                                "this replica's own changes meanwhile", type(exc).__name__)
                down = True
            finally:
                self.subscribed.clear()
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()
            await asyncio.sleep(wait)
            wait = min(wait * 2, MAX_RECONNECT_SECONDS)

    def _topics_of(self, message: dict[str, object]) -> tuple[str, ...]:
        if message.get("type") != "message":
            return ()
        try:
            body = json.loads(str(message.get("data", "")))
        except ValueError:
            return ()
        if not isinstance(body, dict) or body.get("origin") == self.origin:
            return ()
        return tuple(str(topic) for topic in body.get("topics", ()) if isinstance(topic, str))
