"""Live refresh across replicas: only the leader syncs, so only its process sees a fill; a page served
by another replica still refreshes, through Redis pub/sub (real Redis in the second pass). A
replica's own changes reach its pages once, not again as the relay's echo."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal

import pytest

from bot.domain.events import OrderFilled
from bot.domain.orders import Side
from bot.services.change_relay import RedisChangeRelay
from bot.services.events import EventBus
from tests.webapp.harness import auth, build_app, seed_watchlist

pytestmark = [pytest.mark.storage, pytest.mark.lock]
D = Decimal


async def next_change(response, timeout: float = 3) -> bytes:
    while True:
        message = await asyncio.wait_for(response.content.readuntil(b"\n\n"), timeout)
        if b"event: change" in message:
            return message


async def test_a_fill_seen_by_the_leader_refreshes_pages_on_every_replica(exchange, aiohttp_client,
                                                                          redis_client) -> None:
    leader_bus, follower_bus = EventBus(), EventBus()
    leader_relay, follower_relay = RedisChangeRelay(redis_client), RedisChangeRelay(redis_client)
    leader = await aiohttp_client(build_app(exchange, events=leader_bus, relay=leader_relay))
    follower = await aiohttp_client(build_app(exchange, events=follower_bus, relay=follower_relay))
    on_leader = await leader.get("/api/events", headers=auth())
    on_follower = await follower.get("/api/events", headers=auth())
    for response in (on_leader, on_follower):
        assert b"event: hello" in await response.content.readuntil(b"\n\n")
    for relay in (leader_relay, follower_relay):
        await asyncio.wait_for(relay.subscribed.wait(), 5)

    await leader_bus.publish(OrderFilled(order_id="1", client_oid=None, symbol="BTC_USDT", side=Side.BUY,
                                         quantity=D(1), price=D(1), partial=False))

    assert b'"orders"' in await next_change(on_follower)               # through Redis
    assert b'"orders"' in await next_change(on_leader)                 # its own, directly
    with pytest.raises(TimeoutError):                                  # and not again as the echo
        await next_change(on_leader, timeout=0.5)

    # A watchlist edit made on the follower (its Mini App's PATCH) refreshes the leader's pages too.
    await seed_watchlist("BTC_USDT")
    response = await follower.patch("/api/watchlist/BTC_USDT", json={"alert_enabled": True}, headers=auth())
    assert response.status == 200, await response.text()
    assert b'"watchlist"' in await next_change(on_leader)
    for response in (on_leader, on_follower):
        response.close()


async def test_redis_gone_costs_only_the_other_replicas_refresh(exchange, aiohttp_client) -> None:
    from redis.asyncio import Redis

    unreachable = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    relay = RedisChangeRelay(unreachable, reconnect_seconds=0.1)
    bus = EventBus()
    client = await aiohttp_client(build_app(exchange, events=bus, relay=relay))
    stream = await client.get("/api/events", headers=auth())
    assert b"event: hello" in await stream.content.readuntil(b"\n\n")
    await bus.publish(OrderFilled(order_id="1", client_oid=None, symbol="BTC_USDT", side=Side.BUY,
                                  quantity=D(1), price=D(1), partial=False))
    assert b'"orders"' in await next_change(stream)                    # this replica's pages still refresh
    stream.close()
    with contextlib.suppress(Exception):
        await unreachable.aclose()
