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


async def test_after_a_429_every_send_waits_it_out(aiohttp_server, monkeypatch) -> None:
    emulator = BotApiEmulator(flood_limits=LIMITS)
    bot = await paced_bot(aiohttp_server, monkeypatch, emulator)
    emulator.fail_next["sendMessage"] = (429, "Too Many Requests: retry after 1", 1)
    try:
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(1, "told to wait")
        started = time.monotonic()
        await bot.send_message(2, "another chat")
        waited = time.monotonic() - started
    finally:
        await bot.session.close()
    assert waited >= 0.9
    assert [m["text"] for m in emulator.bot_messages(2)] == ["another chat"]
