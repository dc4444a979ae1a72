"""Every message the bot sends keeps to the flood limits, however many handlers send at once."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiogram.exceptions import TelegramRetryAfter

from bot.sandbox.emulator import BotApiEmulator, FloodLimits
from bot.settings import load_settings
from bot.telegram.setup import build_bot

# Telegram's limits scaled down, so a test sees several seconds' worth in one.
LIMITS = FloodLimits(per_chat_interval=0.2, global_per_second=12)


async def paced_bot(aiohttp_server, monkeypatch, emulator: BotApiEmulator):  # type: ignore[no-untyped-def]
    server = await aiohttp_server(emulator.make_app())
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST-TOKEN")
    monkeypatch.setenv("TELEGRAM_CHAT_SEND_INTERVAL_SECONDS", str(LIMITS.per_chat_interval))
    monkeypatch.setenv("TELEGRAM_SENDS_PER_SECOND", "11")
    return build_bot(load_settings(), api_url=str(server.make_url("")))


async def test_answers_sent_all_at_once_go_out_within_the_limits_each_chat_in_order(aiohttp_server,
                                                                                    monkeypatch) -> None:
    emulator = BotApiEmulator(flood_limits=LIMITS)
    bot = await paced_bot(aiohttp_server, monkeypatch, emulator)
    try:
        # given 6 chats whose handlers each answer 4 times at the same moment
        sends = [bot.send_message(chat, f"{chat}-{n}") for n in range(4) for chat in range(1, 7)]
        # when they all run
        await asyncio.gather(*sends)
    finally:
        await bot.session.close()
    # then none was refused for going too fast, and each chat got its answers in the order asked
    assert emulator.flooded() == []
    assert len(emulator.calls_of("sendMessage")) == 24
    for chat in range(1, 7):
        assert [m["text"] for m in emulator.bot_messages(chat)] == [f"{chat}-{n}" for n in range(4)]


async def test_after_a_429_every_send_waits_it_out_and_the_refused_answer_goes_again(aiohttp_server,
                                                                                     monkeypatch) -> None:
    """A 429 the bot did not cause (another process on the same token): the refused answer is sent
    again after the pause instead of being lost, and the other chats wait the pause out too."""
    emulator = BotApiEmulator(flood_limits=LIMITS)
    bot = await paced_bot(aiohttp_server, monkeypatch, emulator)
    emulator.fail_next["sendMessage"] = (429, "Too Many Requests: retry after 1", 1)
    try:
        started = time.monotonic()
        told_to_wait = asyncio.create_task(bot.send_message(1, "told to wait"))
        await emulator.wait_for_call("sendMessage")                  # the refused one
        await bot.send_message(2, "another chat")
        waited = time.monotonic() - started
        await told_to_wait
    finally:
        await bot.session.close()
    assert waited >= 0.9
    assert [m["text"] for m in emulator.bot_messages(1)] == ["told to wait"]        # once, late
    assert [m["text"] for m in emulator.bot_messages(2)] == ["another chat"]
    assert [c.outcome for c in emulator.calls_of("sendMessage", outcome=None)] == ["injected", "ok", "ok"]


@pytest.mark.parametrize(("fault", "tries"), [
    ((429, "Too Many Requests: retry after 3600", 3600), 1),      # an hour: not waited for by a handler
    ((429, "Too Many Requests: retry after 1", 1), 4),            # refused again and again: given up
])
async def test_a_long_or_endless_flood_reaches_the_caller(aiohttp_server, monkeypatch, fault, tries) -> None:
    emulator = BotApiEmulator(flood_limits=LIMITS, fault_plan=lambda method, params: fault)
    bot = await paced_bot(aiohttp_server, monkeypatch, emulator)
    try:
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(1, "not now")
    finally:
        await bot.session.close()
    assert len(emulator.calls_of("sendMessage", outcome="injected")) == tries
    assert emulator.calls_of("sendMessage") == []


async def test_the_notifier_queue_gets_the_429_itself(aiohttp_server, monkeypatch) -> None:
    from bot.telegram.pacing import caller_retries

    emulator = BotApiEmulator(flood_limits=LIMITS)
    bot = await paced_bot(aiohttp_server, monkeypatch, emulator)
    emulator.fail_next["sendMessage"] = (429, "Too Many Requests: retry after 1", 1)
    ours = caller_retries.set(True)
    try:
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(1, "re-queued by the notifier")
    finally:
        caller_retries.reset(ours)
        await bot.session.close()
    assert len(emulator.calls_of("sendMessage", outcome=None)) == 1
