"""Two replicas on one bot token: the flood budget paced per process vs shared through Redis.

    .venv/bin/python bench/send_pacing.py [--redis redis://127.0.0.1:6379/11] [--chats 20] [--each 5]

1. Load: both replicas answer the same chats `--each` times, all at once, to the Bot API emulator
   enforcing Telegram's limits (1 s per chat, 30/s in all; the pacers aim at 28/s). Figures: sends
   refused for flooding (each is resent after its retry_after), total time.
2. The cost of sharing: one replica sending one message at a time to fresh chats with no limits,
   paced locally vs shared (p50/p95 per send), and the Redis scripts alone (take + sent).
Keys are those of the bench's own bot id and expire within seconds; nothing is flushed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp import web
from redis.asyncio import Redis

from bot.sandbox.emulator import BotApiEmulator, FloodLimits
from bot.settings import load_settings
from bot.telegram.setup import build_bot
from bot.telegram.shared_pacing import RedisSendBudget

TOKEN = "990001:BENCH-TOKEN"


async def serve(emulator: BotApiEmulator) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(emulator.make_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def two_replicas(redis: Redis | None, chats: int, each: int) -> tuple[int, int, float, int]:
    """Floods, answers lost (refused 4 times: the caller got the 429), seconds, sends delivered."""
    emulator = BotApiEmulator(flood_limits=FloodLimits())
    runner, url = await serve(emulator)
    bots = [build_bot(load_settings(), api_url=url, token=TOKEN, redis=redis) for _ in range(2)]
    started = time.monotonic()
    try:
        outcomes = await asyncio.gather(*(bot.send_message(chat, f"{name}:{n}") for name, bot in enumerate(bots)
                                          for n in range(each) for chat in range(1, chats + 1)),
                                        return_exceptions=True)
    finally:
        for bot in bots:
            await bot.session.close()
        await runner.cleanup()
    lost = sum(isinstance(outcome, Exception) for outcome in outcomes)
    return len(emulator.flooded()), lost, time.monotonic() - started, len(emulator.calls_of("sendMessage"))


async def one_at_a_time(redis: Redis | None, sends: int) -> list[float]:
    runner, url = await serve(BotApiEmulator())
    settings = load_settings(TELEGRAM_CHAT_SEND_INTERVAL_SECONDS=0.0, TELEGRAM_SENDS_PER_SECOND=1000)
    bot = build_bot(settings, api_url=url, token=TOKEN, redis=redis)
    took = []
    try:
        for chat in range(1, sends + 1):
            started = time.perf_counter()
            await bot.send_message(10_000 + chat, "x")
            took.append(time.perf_counter() - started)
    finally:
        await bot.session.close()
        await runner.cleanup()
    return took[10:]            # without the first connections' set-up


async def scripts_alone(redis: Redis, sends: int) -> list[float]:
    budget = RedisSendBudget(redis, per_chat_interval=1.0, global_per_second=10**6)
    took = []
    for chat in range(sends):
        started = time.perf_counter()
        grant = await budget.take(990002, chat)
        assert grant is not None, "Redis does not answer"
        await grant.sent()
        took.append(time.perf_counter() - started)
    return took[10:]


def ms(values: list[float]) -> str:
    values = sorted(values)
    return f"p50 {statistics.median(values) * 1000:.2f} ms, p95 {values[int(len(values) * 0.95)] * 1000:.2f} ms"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--each", type=int, default=5)
    parser.add_argument("--sends", type=int, default=300)
    args = parser.parse_args()
    redis = Redis.from_url(args.redis, decode_responses=True)
    try:
        await redis.ping()
        total = 2 * args.chats * args.each
        print(f"two replicas, {args.chats} chats x {args.each} answers each ({total} sends) at once, "
              f"limits 1 s/chat, 30/s (pacers 28/s):")
        for name, shared in (("paced per process", None), ("shared via Redis ", redis)):
            floods, lost, seconds, delivered = await two_replicas(shared, args.chats, args.each)
            print(f"  {name}: {floods:4d} refused for flooding, {lost} answers lost, {delivered}/{total} delivered "
                  f"in {seconds:.2f} s ({delivered / seconds:.1f}/s)")
        print(f"one send at a time, no limits ({args.sends} sends):")
        local = await one_at_a_time(None, args.sends)
        shared_took = await one_at_a_time(redis, args.sends)
        print(f"  paced locally: {ms(local)}")
        added = statistics.median(shared_took) - statistics.median(local)
        added = statistics.median(shared_took) - statistics.median(local)
        print(f"  shared       : {ms(shared_took)}  (+{added * 1000:.2f} ms p50)")
        print(f"  Redis scripts alone (take + sent): {ms(await scripts_alone(redis, args.sends))}")
    finally:
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
