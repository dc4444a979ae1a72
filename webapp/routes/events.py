"""GET /api/events: server-sent events telling open pages what changed, so they refresh themselves.

Each message names topics ("orders", "portfolio", "signals", "watchlist", "dashboard"), never data:
the page fetches its own view again, through the same authenticated routes. Services publish
domain events on the in-process bus; this module turns them into topics for every open stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from bot.domain.events import (
    AutoOrderPlaced,
    AutoOrderRefused,
    Event,
    OcoLegDone,
    OrderCanceled,
    OrderFilled,
    OrderRejected,
    ProtectionFailed,
    ProtectionPlaced,
    SignalChanged,
    WatchlistChanged,
)
from bot.services.background import cancel_and_wait
from bot.services.change_relay import RedisChangeRelay
from webapp.context import MINIAPP_KEY
from webapp.security import apply_headers

log = logging.getLogger(__name__)
HEARTBEAT_S = 15.0
ORDER_TOPICS = ("orders", "portfolio", "dashboard")
TOPICS_OF: tuple[tuple[type[Event], tuple[str, ...]], ...] = (
    (OrderFilled, ORDER_TOPICS), (OrderCanceled, ORDER_TOPICS), (OrderRejected, ORDER_TOPICS),
    (ProtectionPlaced, ORDER_TOPICS), (ProtectionFailed, ORDER_TOPICS), (OcoLegDone, ORDER_TOPICS),
    (AutoOrderPlaced, ("orders", "signals", "dashboard")), (AutoOrderRefused, ("signals",)),
    (SignalChanged, ("signals", "dashboard")), (WatchlistChanged, ("watchlist", "signals", "dashboard")),
)
_CLOSE = ("__close__",)


class ChangeFeed:
    """One queue per open stream; a slow reader loses nothing that matters (topics coalesce)."""

    def __init__(self, relay: RedisChangeRelay | None = None) -> None:
        self._queues: set[asyncio.Queue[tuple[str, ...]]] = set()
        self.relay = relay
        self._relaying: set[asyncio.Task[None]] = set()

    def publish(self, *topics: str) -> None:
        """A change seen here: this process's pages, and through the relay the other replicas'."""
        self.deliver(tuple(topics))
        if self.relay is not None:
            task = asyncio.get_running_loop().create_task(self.relay.publish(tuple(topics)))
            self._relaying.add(task)
            task.add_done_callback(self._relaying.discard)

    def deliver(self, topics: tuple[str, ...]) -> None:
        for queue in list(self._queues):
            if queue.qsize() < 100:
                queue.put_nowait(tuple(topics))

    def open(self) -> asyncio.Queue[tuple[str, ...]]:
        queue: asyncio.Queue[tuple[str, ...]] = asyncio.Queue()
        self._queues.add(queue)
        return queue

    def close(self, queue: asyncio.Queue[tuple[str, ...]]) -> None:
        self._queues.discard(queue)

    def close_all(self) -> None:
        for queue in list(self._queues):
            queue.put_nowait(_CLOSE)

    @property
    def listeners(self) -> int:
        return len(self._queues)


FEED_KEY = web.AppKey("change_feed", ChangeFeed)


def publish_change(app: web.Application, *topics: str) -> None:
    app[FEED_KEY].publish(*topics)


def subscribe_to_bus(app: web.Application) -> None:
    feed = app[FEED_KEY]
    bus = app[MINIAPP_KEY].events
    for event_type, topics in TOPICS_OF:
        async def forward(_event: Event, topics: tuple[str, ...] = topics) -> None:
            feed.publish(*topics)
        bus.subscribe(event_type, forward)


async def stream(request: web.Request) -> web.StreamResponse:
    feed = request.app[FEED_KEY]
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                           "X-Accel-Buffering": "no"})
    apply_headers(request, response)
    await response.prepare(request)
    queue = feed.open()
    try:
        await response.write(b"retry: 2000\nevent: hello\ndata: {}\n\n")
        while True:
            try:
                topics = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if topics == _CLOSE:
                break
            pending = set(topics)
            while not queue.empty():          # a burst of events becomes one refresh
                more = queue.get_nowait()
                if more == _CLOSE:
                    return response
                pending.update(more)
            data = json.dumps({"topics": sorted(pending)})
            await response.write(f"event: change\ndata: {data}\n\n".encode())
    except ConnectionResetError:
        pass                                    # the page went away
    finally:
        feed.close(queue)
        with contextlib.suppress(Exception):
            await response.write_eof()
    return response


async def _close_streams(app: web.Application) -> None:
    app[FEED_KEY].close_all()


async def _follow_other_replicas(app: web.Application) -> AsyncIterator[None]:
    feed = app[FEED_KEY]
    following = asyncio.create_task(feed.relay.follow(feed.deliver)) if feed.relay is not None else None
    yield
    if following is not None:
        await cancel_and_wait(following)


def add_routes(app: web.Application) -> None:
    app[FEED_KEY] = ChangeFeed(app[MINIAPP_KEY].relay)
    subscribe_to_bus(app)
    app.cleanup_ctx.append(_follow_other_replicas)
    app.on_shutdown.append(_close_streams)
    app.router.add_get("/api/events", stream)
