"""Fifty allowed users sending twenty commands each at once, through the Bot API emulator (with
Telegram's flood limits) to the whole running application: every command answered exactly once, in
its own chat and its user's language, nothing raised, no 429 caused by the bot."""

from __future__ import annotations

import logging
from collections import Counter

import pytest

from bot.sandbox.emulator import BotApiEmulator, FloodLimits
from tests.telegram.burst import (
    AnswerCounter,
    allowed_users_setting,
    burst_users,
    push_burst,
    read_answer,
    save_choices,
)
from tests.telegram.harness import OWNER, running_app

pytestmark = pytest.mark.storage     # 50 users' language and settings reads at once on PostgreSQL too

USERS, PER_USER = 50, 20
# Telegram's limits (1 message a second in a chat, 30 in all) scaled up fourfold and threefold: the same
# pacing at work (20 answers in a chat, 1,000 in all, each well beyond a limit), in a quarter of the time.
LIMITS = FloodLimits(per_chat_interval=0.25, global_per_second=90)


async def test_a_burst_of_commands_from_fifty_users_is_all_answered_once_in_each_users_language(
        db: str, aiohttp_server, monkeypatch, caplog: pytest.LogCaptureFixture) -> None:
    users = burst_users(USERS)
    emulator = BotApiEmulator(flood_limits=LIMITS)
    caplog.set_level(logging.WARNING)
    async with running_app(db, aiohttp_server, monkeypatch, emulator=emulator,
                           env={"TELEGRAM_ALLOWED_USERS": allowed_users_setting(users, OWNER)}) as world:
        await save_choices(users)
        counter = AnswerCounter(world.emulator)
        # given 1,000 commands arriving at once
        sent = push_burst(world.emulator, users, PER_USER)
        # when the bot has sent as many messages
        all_answered = await counter.wait_for(len(sent), timeout=90)
        await counter.settled(quiet=0.5)
    # then each went to the chat that asked, one per command, in that user's language
    language = {u.user_id: u.language for u in users}
    answered = Counter((a.chat_id, read_answer(a.text)) for a in counter.answers)
    expected = Counter((s.chat_id, (s.command, language[s.chat_id])) for s in sent)
    raised = [f"{r.name}: {r.getMessage()[:300]}" for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    refused = [c.method for c in world.emulator.calls if c.outcome != "ok" and c.method != "getUpdates"]
    assert all_answered, (f"{len(counter.answers)} of {len(sent)} answered; {len(world.emulator.flooded())} sends "
                          f"beyond the flood limits; raised: {raised[:3]}")
    assert answered == expected, (f"missing: {list((expected - answered).items())[:5]}; "
                                  f"unexpected: {list((answered - expected).items())[:5]}")
    assert world.emulator.flooded() == [], f"{len(world.emulator.flooded())} sends beyond the flood limits"
    assert refused == []
    assert raised == []
