"""Every message the bot sends, within Telegram's flood limits.

Telegram allows about one message a second in a chat and about thirty a second in all, and answers
429 with `retry_after` beyond that. A command's answer is sent by its handler at once; fifty people
each sending twenty commands in a burst would make the bot go far beyond both limits, and every
send refused with 429 is an answer lost (the handler raises). This request middleware on the Bot's
session paces all message sends, the handlers' answers and the notifier's deliveries alike, so they
share one budget: in a chat, a send starts a second after the previous one in that chat came back
(completion, not start: loopback or network jitter can then never bring two sends closer than a
second at Telegram); in all, at most `global_per_second` sends are on the way or came back within
the last second. Sends in one
chat go out in the order they asked. When a 429 comes anyway (another process using the same bot,
or several replicas answering webhooks), every send waits out its `retry_after`, and the refused
send goes again after the pause (a refused message was not delivered, so this cannot duplicate it):
a command's answer arrives late instead of never. The notifier's queue, which re-queues and merges
on its own, says so (`caller_retries`) and gets the error instead.

These limits hold in one process. With several replicas on one token (REDIS_URL set), a `shared`
budget (`bot.telegram.shared_pacing`) also grants each send against every replica's sends, chats
and pauses; the local pacing stays in front of it (it keeps each chat's order and bounds how many
sends here wait on the shared one) and alone decides while Redis does not answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

if TYPE_CHECKING:
    from aiogram import Bot

# What puts a new message in a chat (edits, chat actions and callback answers are not paced).
MESSAGE_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "sendAnimation",
                             "sendVideo", "sendAudio", "sendVoice", "sendSticker", "sendLocation", "sendPoll",
                             "copyMessage", "forwardMessage", "copyMessages", "forwardMessages"})
FORGET_AFTER = 1000      # chats remembered before the idle ones are forgotten
# A refused send goes again at most this many times, and only while Telegram asks for a short pause:
# beyond it the caller gets the error (a handler then fails visibly rather than hanging for minutes).
RESENDS_AFTER_429 = 3
LONGEST_PAUSE_SECONDS = 60

# True while a sender that handles 429 itself (the notifier's delivery queue) is sending.
caller_retries: ContextVar[bool] = ContextVar("caller_retries", default=False)


class SharedGrant(Protocol):
    async def sent(self) -> None: ...


class SharedBudget(Protocol):
    """The flood budget of a bot token across processes (None from `take`: decide locally)."""

    async def take(self, bot_id: int, chat_id: Any) -> SharedGrant | None: ...
    async def pause(self, bot_id: int, seconds: float) -> None: ...


@dataclass
class _ChatTurn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    done_at: float = float("-inf")      # when the chat's previous send came back


class SendPacer(BaseRequestMiddleware):
    def __init__(self, *, per_chat_interval: float = 1.0, global_per_second: int = 28,
                 clock: Any = time.monotonic, shared: SharedBudget | None = None) -> None:
        self.per_chat_interval = per_chat_interval
        # A little under Telegram's 30/s, as a margin for its own way of counting.
        self.global_per_second = global_per_second
        self.clock = clock
        self.shared = shared
        self.waited_seconds = 0.0               # in all, by every paced send (for benchmarks)
        self.resent = 0                         # sends refused with 429 and sent again
        self._chats: dict[Any, _ChatTurn] = {}
        # The last second's sends, counted from their start to a second after they came back: any
        # second at Telegram then holds at most `global_per_second` arrivals, however the requests
        # bunch on the way (a busy event loop lets several go at once).
        self._in_flight = 0
        self._done: deque[float] = deque()
        self._changed = asyncio.Condition()
        self._paused_until = 0.0

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        chat_id = getattr(method, "chat_id", None)
        if method.__api_method__ not in MESSAGE_METHODS or chat_id is None:
            return await make_request(bot, method)
        turn = self._turn(chat_id)
        async with turn.lock:
            asked = self.clock()
            await self._sleep_until(turn.done_at + self.per_chat_interval)
            refused = 0
            while True:
                await self._global_slot()           # after a 429: once the pause is over
                grant: SharedGrant | None = None
                try:
                    # Inside: a send cancelled while waiting on the other replicas gives its slot back.
                    if self.shared is not None:
                        grant = await self.shared.take(bot.id, chat_id)
                    self.waited_seconds += self.clock() - asked
                    return await make_request(bot, method)
                except TelegramRetryAfter as exc:
                    self._paused_until = max(self._paused_until, self.clock() + exc.retry_after)
                    if self.shared is not None:
                        await self.shared.pause(bot.id, exc.retry_after)
                    refused += 1
                    if (caller_retries.get() or refused > RESENDS_AFTER_429
                            or exc.retry_after > LONGEST_PAUSE_SECONDS):
                        raise
                    self.resent += 1
                    asked = self.clock()
                finally:
                    turn.done_at = self.clock()
                    await self._release_slot(turn.done_at)
                    if grant is not None:
                        await grant.sent()

    def _turn(self, chat_id: Any) -> _ChatTurn:
        if len(self._chats) >= FORGET_AFTER:
            idle_since = self.clock() - self.per_chat_interval
            for key in [k for k, t in self._chats.items() if not t.lock.locked() and t.done_at < idle_since]:
                del self._chats[key]
        return self._chats.setdefault(chat_id, _ChatTurn())

    async def _global_slot(self) -> None:
        """Wait until fewer than `global_per_second` sends are in flight or came back within the last
        second (and any pause Telegram asked for is over), then take one."""
        async with self._changed:
            while True:
                now = self.clock()
                while self._done and now - self._done[0] >= 1.0:
                    self._done.popleft()
                if now >= self._paused_until and self._in_flight + len(self._done) < self.global_per_second:
                    self._in_flight += 1
                    return
                wake = [self._paused_until] if now < self._paused_until else []
                wake += [self._done[0] + 1.0] if self._done else []
                timeout = max(wake) - now if wake else None         # else: when one in flight comes back
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout)

    async def _release_slot(self, done_at: float) -> None:
        async with self._changed:
            self._in_flight -= 1
            self._done.append(done_at)
            self._changed.notify_all()

    async def _sleep_until(self, at: float) -> None:
        delay = at - self.clock()
        if delay > 0:
            await asyncio.sleep(delay)
