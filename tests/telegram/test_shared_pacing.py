"""Replicas on one bot token share its flood budget through Redis, and pace alone when Redis is gone
(real Redis in the second pass)."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from typing import Any

import pytest
from aiogram import Bot
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.sandbox.emulator import BotApiEmulator, FloodLimits
from bot.settings import load_settings
from bot.telegram import shared_pacing
from bot.telegram.pacing import SendPacer
from bot.telegram.setup import build_bot
from bot.telegram.shared_pacing import RedisSendBudget
from tests.exchange.cryptocom_helpers import eventually

# Telegram's limits scaled down, as in test_pacing: several seconds' worth in one.
LIMITS = FloodLimits(per_chat_interval=0.2, global_per_second=12)
PACING = {"per_chat_interval": LIMITS.per_chat_interval, "global_per_second": 11}
CHATS, EACH = range(1, 7), 4


def replica(url: str, redis: Any | None) -> tuple[Bot, SendPacer]:
    """One process's Bot, as the composition root builds it (shared pacing when it has a Redis)."""
    settings = load_settings(TELEGRAM_CHAT_SEND_INTERVAL_SECONDS=PACING["per_chat_interval"],
                             TELEGRAM_SENDS_PER_SECOND=PACING["global_per_second"])
    bot = build_bot(settings, api_url=url, token="123456:TEST-TOKEN", redis=redis)
    [pacer] = bot.session.middleware
    assert isinstance(pacer, SendPacer)
    return bot, pacer


async def two_replicas_answer_at_once(url: str, redis: Any | None) -> None:
    """Both replicas answer the same six chats four times each, all at the same moment."""
    bots = [replica(url, redis)[0] for _ in range(2)]
    try:
        await asyncio.gather(*(bot.send_message(chat, f"{name}:{chat}-{n}")
                               for name, bot in enumerate(bots) for n in range(EACH) for chat in CHATS))
    finally:
        for bot in bots:
            await bot.session.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def assert_each_chat_in_order_per_replica(emulator: BotApiEmulator, replicas: int) -> None:
    for chat in CHATS:
        texts = [m["text"] for m in emulator.bot_messages(chat)]
        for name in range(replicas):
            assert [t for t in texts if t.startswith(f"{name}:")] == [f"{name}:{chat}-{n}" for n in range(EACH)]


async def test_two_replicas_pacing_alone_flood_the_token(aiohttp_server) -> None:
    """The load below is beyond the limits for two processes that each count only their own sends
    (so the shared test can fail)."""
    emulator = BotApiEmulator(flood_limits=LIMITS)
    server = await aiohttp_server(emulator.make_app())
    await two_replicas_answer_at_once(str(server.make_url("")).rstrip("/"), redis=None)
    assert len(emulator.flooded()) > 0


@pytest.mark.lock
async def test_two_replicas_sharing_redis_stay_within_the_limits_each_chat_in_order(aiohttp_server,
                                                                                   redis_client) -> None:
    # given two replicas on one token whose pacers share a Redis
    emulator = BotApiEmulator(flood_limits=LIMITS)
    server = await aiohttp_server(emulator.make_app())
    # when both answer the same chats at once
    await two_replicas_answer_at_once(str(server.make_url("")).rstrip("/"), redis_client)
    # then Telegram refused nothing, everything arrived, each replica's answers in order in each chat
    assert emulator.flooded() == []
    assert len(emulator.calls_of("sendMessage")) == 2 * len(CHATS) * EACH
    assert_each_chat_in_order_per_replica(emulator, replicas=2)


@pytest.mark.lock
async def test_a_429_told_to_one_replica_makes_the_other_wait(aiohttp_server, redis_client) -> None:
    emulator = BotApiEmulator(flood_limits=LIMITS)
    server = await aiohttp_server(emulator.make_app())
    url = str(server.make_url("")).rstrip("/")
    (told, told_pacer), (other, _) = replica(url, redis_client), replica(url, redis_client)
    emulator.fail_next["sendMessage"] = (429, "Too Many Requests: retry after 1", 1)
    try:
        # given one replica told to wait a second
        started = time.monotonic()
        refused = asyncio.create_task(told.send_message(1, "told to wait"))
        await eventually(lambda: told_pacer.resent == 1)           # refused, and the pause shared
        # when the other replica answers another chat
        await other.send_message(2, "another replica")
        waited = time.monotonic() - started
        await refused
    finally:
        await told.session.close()
        await other.session.close()
    # then it waited the pause out too, and the refused answer went again once
    assert waited >= 0.9
    assert [m["text"] for m in emulator.bot_messages(1)] == ["told to wait"]
    assert [m["text"] for m in emulator.bot_messages(2)] == ["another replica"]


async def test_with_redis_gone_sends_go_out_paced_locally_without_waiting_on_it(aiohttp_server, caplog) -> None:
    emulator = BotApiEmulator(flood_limits=LIMITS)
    server = await aiohttp_server(emulator.make_app())
    gone = Redis.from_url(f"redis://127.0.0.1:{closed_port()}/11", socket_connect_timeout=1)
    bot, pacer = replica(str(server.make_url("")).rstrip("/"), gone)
    try:
        with caplog.at_level(logging.WARNING, logger=shared_pacing.__name__):
            await asyncio.gather(*(bot.send_message(chat, f"0:{chat}-{n}") for n in range(EACH) for chat in CHATS))
    finally:
        await bot.session.close()
        await gone.aclose()
    assert emulator.flooded() == []
    assert_each_chat_in_order_per_replica(emulator, replicas=1)
    # asked by the first sends only (one a chat, all at once), then left alone for RETRY_SECONDS
    assert isinstance(pacer.shared, RedisSendBudget) and pacer.shared.round_trips <= len(CHATS)
    assert [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()] == [
        "send pacing: Redis unreachable (ConnectionError); this replica paces its sends alone until it answers"]


class FlakyRedis:
    """A Redis client whose scripts fail while `down` (the network to Redis cut, then back)."""

    def __init__(self, redis: Any) -> None:
        self.redis = redis
        self.down = False

    def register_script(self, source: str) -> Any:
        script = self.redis.register_script(source)

        async def run(**kwargs: Any) -> Any:
            if self.down:
                raise RedisConnectionError("Connection refused")
            return await script(**kwargs)

        return run


@pytest.mark.lock
async def test_the_shared_budget_is_used_again_once_redis_answers(redis_client, caplog) -> None:
    now = [0.0]
    flaky = FlakyRedis(redis_client)
    budget = RedisSendBudget(flaky, **PACING, clock=lambda: now[0])
    flaky.down = True
    with caplog.at_level(logging.INFO, logger=shared_pacing.__name__):
        assert await budget.take(123456, 1) is None                # gone: the caller paces locally
        flaky.down = False
        assert await budget.take(123456, 1) is None                # not asked again yet
        now[0] += shared_pacing.RETRY_SECONDS
        grant = await budget.take(123456, 1)                       # asked again: shared once more
    assert grant is not None
    await grant.sent()
    assert await redis_client.exists("cryptobot:pacing:123456:chat:1") == 1
    assert [r.levelname for r in caplog.records] == ["WARNING", "INFO"]


@pytest.mark.lock
async def test_a_send_cancelled_while_waiting_on_the_other_replicas_gives_its_turn_back(aiohttp_server,
                                                                                        redis_client) -> None:
    emulator = BotApiEmulator(flood_limits=LIMITS)
    server = await aiohttp_server(emulator.make_app())
    settings = load_settings(TELEGRAM_CHAT_SEND_INTERVAL_SECONDS=0.2, TELEGRAM_SENDS_PER_SECOND=1)
    bot = build_bot(settings, api_url=str(server.make_url("")).rstrip("/"), token="123456:TEST-TOKEN",
                    redis=redis_client)
    # given another replica told to pause, and a send here waiting for it (this replica's only slot)
    await RedisSendBudget(redis_client, **PACING).pause(123456, 0.5)
    waiting = asyncio.create_task(bot.send_message(1, "given up"))
    await asyncio.sleep(0.1)
    try:
        # when its handler is cancelled
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        # then the next send still goes (the slot came back), once the pause is over
        await asyncio.wait_for(bot.send_message(2, "next"), 3)
    finally:
        await bot.session.close()
    assert [c.params["text"] for c in emulator.calls_of("sendMessage")] == ["next"]
