"""The send queue against the Bot API emulator with Telegram's flood control switched on: paced
below the limits (the bot never causes a 429), retry_after honoured, nothing lost, order kept."""

from __future__ import annotations

import itertools
from typing import Any

from bot.devtools.telegram_harness import emulated_bot
from bot.sandbox.emulator import BotApiEmulator, FloodLimits, RecordedCall
from bot.telegram.delivery import LIMIT, DeliveryQueue, Outgoing, split_text
from bot.telegram.notices.model import Button

# Telegram's limits scaled down (1/s per chat -> 5/s, 30/s in all -> 20/s) so the tests run fast;
# the queue paces just under them, as it does under the real ones.
FAST = FloodLimits(per_chat_interval=0.2, global_per_second=20, retry_after=1)
BUTTON = ((Button("🛡 Protect", "protect:BTC_USDT:"),),)


def fast_queue(bot: Any, **kwargs: Any) -> DeliveryQueue:
    return DeliveryQueue(bot, per_chat_interval=0.2, global_per_second=18, **kwargs)


def texts_by_chat(emulator: BotApiEmulator) -> dict[int, list[str]]:
    sent: dict[int, list[str]] = {}
    for call in emulator.calls_of("sendMessage"):
        sent.setdefault(int(call.params["chat_id"]), []).append(call.params["text"])
    return sent


def gaps(calls: list[RecordedCall]) -> list[float]:
    return [b.at - a.at for a, b in itertools.pairwise(calls)]


async def test_sends_stay_within_the_per_chat_and_global_limits() -> None:
    emulator = BotApiEmulator(flood_limits=FAST)
    async with emulated_bot(emulator) as bot:
        queue = fast_queue(bot)
        await queue.start()
        for chat in range(1, 31):                    # 30 chats x 3 messages, each with a button (never merged)
            for n in range(3):
                queue.put(Outgoing(chat, f"chat {chat} message {n}", buttons=BUTTON))
        assert await queue.drained(timeout=30)
        await queue.close()
    assert emulator.flooded() == []
    sent = texts_by_chat(emulator)
    assert all(sent[chat] == [f"chat {chat} message {n}" for n in range(3)] for chat in range(1, 31))
    calls = emulator.calls_of("sendMessage")
    per_second = max(sum(1 for c in calls if 0 <= c.at - first.at < 1.0) for first in calls)
    assert per_second <= 20
    for chat in range(1, 31):
        own = [c for c in calls if c.params["chat_id"] == str(chat)]
        assert min(gaps(own)) >= 0.2 - FAST.slack


async def test_a_retry_after_pauses_sending_and_loses_nothing() -> None:
    numbers = itertools.count(1)

    def every_fifth_send_is_told_to_wait(method: str, params: dict[str, Any]) -> Any:
        if method == "sendMessage" and next(numbers) % 5 == 0:
            return 429, "Too Many Requests: retry after 1", 1
        return None

    emulator = BotApiEmulator(flood_limits=FAST, fault_plan=every_fifth_send_is_told_to_wait)
    async with emulated_bot(emulator) as bot:
        queue = fast_queue(bot)
        await queue.start()
        for n in range(12):
            queue.put(Outgoing(1 + n % 3, f"event {n}", buttons=BUTTON))
        assert await queue.drained(timeout=30)
        await queue.close()
    refused = emulator.calls_of("sendMessage", outcome="injected")
    assert len(refused) >= 2 and queue.stats.retry_after == len(refused)
    assert emulator.flooded() == []
    sent = texts_by_chat(emulator)
    assert sorted(t for texts in sent.values() for t in texts) == sorted(f"event {n}" for n in range(12))
    assert all(texts == sorted(texts, key=lambda t: int(t.split()[1])) for texts in sent.values())
    delivered = emulator.calls_of("sendMessage")
    for wait in refused:        # nothing went out during the second Telegram asked for
        assert not [c for c in delivered if wait.at < c.at < wait.at + 1 - FAST.slack]


async def test_a_backlog_in_one_chat_goes_out_merged_in_order_without_losing_a_line() -> None:
    emulator = BotApiEmulator(flood_limits=FAST)
    async with emulated_bot(emulator) as bot:
        queue = fast_queue(bot)
        await queue.start()
        events = [f"✅ <b>Order filled</b> {n}\n{'detail ' * 20}" for n in range(60)]
        for n, text in enumerate(events):
            queue.put(Outgoing(7, text, silent=n % 2 == 1))
        queue.put(Outgoing(7, "with a button", buttons=BUTTON))
        assert await queue.drained(timeout=30)
        await queue.close()
    calls = emulator.calls_of("sendMessage")
    assert emulator.flooded() == [] and len(calls) < 20
    assert all(len(c.params["text"]) <= LIMIT for c in calls)
    assert "\n\n".join(c.params["text"] for c in calls[:-1]) == "\n\n".join(events)
    assert calls[-1].params["text"] == "with a button" and "reply_markup" in calls[-1].params
    assert queue.stats.parts == 61


async def test_a_long_text_is_split_on_line_boundaries() -> None:
    text = "\n".join(f"<b>line {n}</b> " + "x" * 90 for n in range(120))
    emulator = BotApiEmulator()
    async with emulated_bot(emulator) as bot:
        queue = fast_queue(bot)
        await queue.start()
        queue.put(Outgoing(3, text))
        assert await queue.drained(timeout=10)
        await queue.close()
    parts = [c.params["text"] for c in emulator.calls_of("sendMessage")]
    assert len(parts) == 4 and all(len(p) <= LIMIT for p in parts)
    assert "\n".join(parts) == text and all(p.startswith("<b>line") for p in parts)


def test_a_single_line_longer_than_the_limit_is_cut_outside_tags_and_entities() -> None:
    line = ("a &amp; <b>b</b> " * 400).strip()
    chunks = split_text(line)
    assert "".join(chunks) == line and all(len(c) <= LIMIT for c in chunks)
    for chunk in chunks:
        assert chunk.count("<") == chunk.count(">") and chunk.count("&") == chunk.count(";")


async def test_telegram_down_then_back_delivers_everything_and_records_the_failures() -> None:
    numbers = itertools.count(1)
    failed: list[tuple[tuple[int, ...], str]] = []
    sent_ids: list[int] = []

    def first_two_fail(method: str, params: dict[str, Any]) -> Any:
        return (502, "Bad Gateway", None) if method == "sendMessage" and next(numbers) <= 2 else None

    async def on_failed(ids: tuple[int, ...], error: str) -> None:
        failed.append((ids, error))

    async def on_sent(ids: tuple[int, ...]) -> None:
        sent_ids.extend(ids)

    emulator = BotApiEmulator(fault_plan=first_two_fail)
    async with emulated_bot(emulator) as bot:
        queue = fast_queue(bot, on_sent=on_sent, on_failed=on_failed, max_backoff=0.3)
        await queue.start()
        queue.put(Outgoing(5, "kept safe", outbox_ids=(41,)))
        assert await queue.drained(timeout=10)
        await queue.close()
    assert [c.params["text"] for c in emulator.calls_of("sendMessage")] == ["kept safe"]
    assert [ids for ids, _ in failed] == [(41,), (41,)] and sent_ids == [41]


async def test_a_chat_that_blocked_the_bot_is_given_up_and_others_still_get_theirs() -> None:
    dropped: list[tuple[int, ...]] = []

    def blocked(method: str, params: dict[str, Any]) -> Any:
        if method == "sendMessage" and params.get("chat_id") == "9":
            return 403, "Forbidden: bot was blocked by the user", None
        return None

    async def on_dropped(ids: tuple[int, ...], error: str) -> None:
        dropped.append(ids)

    emulator = BotApiEmulator(fault_plan=blocked)
    async with emulated_bot(emulator) as bot:
        queue = fast_queue(bot, on_dropped=on_dropped)
        await queue.start()
        queue.put(Outgoing(9, "to the blocker", outbox_ids=(1,)))
        queue.put(Outgoing(10, "to a reader", outbox_ids=(2,)))
        assert await queue.drained(timeout=10)
        await queue.close()
    assert dropped == [(1,)] and texts_by_chat(emulator) == {10: ["to a reader"]}
