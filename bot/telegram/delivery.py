"""Delivery of notifications to Telegram within its flood limits.

Telegram allows about one message a second in a chat and about thirty a second in all, and answers
429 with `retry_after` beyond that. The queue paces every send below both limits (so the bot never
causes a 429 itself), pauses all sending for `retry_after` when one comes anyway, and keeps each
chat's messages in order. When a chat has a backlog (a burst of fills), its waiting messages go out
merged into as few messages as fit in 4,096 characters instead of queueing minutes behind the
one-a-second limit; a message with buttons always goes alone. Texts longer than 4,096 characters
are split on line boundaries.

Nothing is dropped while Telegram is unreachable: a failed send stays at the head of its chat's
queue and is tried again with a growing pause. Only a send Telegram refuses for good (the user
blocked the bot, a malformed request) is given up, and reported through `on_dropped`.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.telegram.notices.model import Button
from bot.telegram.pacing import caller_retries

log = logging.getLogger(__name__)

LIMIT = 4096
MERGE_SEPARATOR = "\n\n"
Buttons = tuple[tuple[Button, ...], ...]
Ids = tuple[int, ...]


@dataclass(frozen=True)
class Outgoing:
    chat_id: int
    text: str                      # HTML
    silent: bool = False           # disable_notification
    buttons: Buttons = ()
    outbox_ids: Ids = ()           # outbox rows this message completes (reported through on_sent)


@dataclass
class DeliveryStats:
    sent: int = 0                  # sendMessage calls that succeeded
    parts: int = 0                 # queued messages delivered (several can share one send)
    retry_after: int = 0           # 429s received
    failures: int = 0              # other failed attempts (tried again)
    dropped: int = 0               # given up: refused for good
    paused_seconds: float = 0.0


def split_text(text: str, limit: int = LIMIT) -> list[str]:
    """Chunks of at most `limit` characters, cut at line ends; a longer line is cut where no HTML
    tag or entity is broken."""
    chunks: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = _safe_cut(text, limit)
        chunks.append(text[:cut])
        text = text[cut:].removeprefix("\n")
    return [*chunks, text] if text else chunks


def _safe_cut(text: str, limit: int) -> int:
    head = text[:limit]
    for opener, closer in (("<", ">"), ("&", ";")):
        start = head.rfind(opener)
        if start > 0 and head.find(closer, start) < 0:
            head = head[:start]
    return len(head) or limit


_TAG = re.compile(r"<[^>]+>")


def as_plain_text(text: str) -> str:
    """The message without its HTML (for the rare text Telegram cannot parse)."""
    return html.unescape(_TAG.sub("", text))


def keyboard(buttons: Buttons) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=b.text, callback_data=b.callback_data) for b in row] for row in buttons])


@dataclass
class _Chat:
    waiting: deque[Outgoing] = field(default_factory=deque)
    next_at: float = 0.0
    busy: bool = False
    failures: int = 0


class DeliveryQueue:
    def __init__(self, bot: Bot, *, on_sent: Callable[[Ids], Awaitable[None]] | None = None,
                 on_failed: Callable[[Ids, str], Awaitable[None]] | None = None,
                 on_dropped: Callable[[Ids, str], Awaitable[None]] | None = None,
                 per_chat_interval: float = 1.0, global_per_second: float = 28.0, concurrency: int = 8,
                 max_backoff: float = 60.0) -> None:
        self.bot = bot
        self.on_sent = on_sent
        self.on_failed = on_failed
        self.on_dropped = on_dropped
        self.per_chat_interval = per_chat_interval
        # A little under Telegram's 30/s, so loopback jitter never bunches 31 sends into one second.
        self.global_interval = 1.0 / global_per_second
        self.concurrency = concurrency
        self.max_backoff = max_backoff
        self.stats = DeliveryStats()
        self._chats: dict[int, _Chat] = {}
        self._order: deque[int] = deque()      # chats in the order their oldest message arrived
        self._global_next = 0.0
        self._paused_until = 0.0
        self._in_flight: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._runner: asyncio.Task[None] | None = None

    # --- the notifier's side ------------------------------------------------------------------

    def put(self, item: Outgoing) -> None:
        """Queue a message (split when longer than Telegram allows; its buttons and outbox ids go
        with the last part, so the row counts as sent only when all of it is)."""
        parts = split_text(item.text)
        chat = self._chats.setdefault(item.chat_id, _Chat())
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            chat.waiting.append(replace(item, text=part, buttons=item.buttons if last else (),
                                        outbox_ids=item.outbox_ids if last else ()))
        if item.chat_id not in self._order:
            self._order.append(item.chat_id)
        self._idle.clear()
        self._changed.set()

    def pending(self) -> int:
        return sum(len(c.waiting) for c in self._chats.values()) + len(self._in_flight)

    async def start(self) -> None:
        if self._runner is None:
            self._runner = asyncio.create_task(self._run(), name="telegram-delivery")

    async def close(self) -> None:
        tasks = [t for t in (self._runner, *self._in_flight) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._runner = None

    async def drained(self, timeout: float | None = None) -> bool:
        """Wait until everything queued is delivered (or given up); False on timeout."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    # --- the sending side ---------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._changed.clear()
            now = loop.time()
            chosen, ready_at = self._next_chat(now)
            if chosen is None or len(self._in_flight) >= self.concurrency or ready_at > now:
                if chosen is None and not self._in_flight:
                    self._idle.set()
                wait = None if chosen is None or len(self._in_flight) >= self.concurrency else ready_at - now
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), wait)
                continue
            chat = self._chats[chosen]
            message = self._take(chat)
            chat.busy = True
            chat.next_at = now + self.per_chat_interval
            self._global_next = now + self.global_interval
            task = asyncio.create_task(self._send(chosen, chat, message), name=f"send-{chosen}")
            self._in_flight.add(task)
            task.add_done_callback(self._sent_one)

    def _sent_one(self, task: asyncio.Task[None]) -> None:
        # Here, not in _send's finally: the runner must not see a finished send still in flight.
        self._in_flight.discard(task)
        self._changed.set()

    def _next_chat(self, now: float) -> tuple[int | None, float]:
        """The chat that may send soonest (oldest first among equals), and when."""
        best: int | None = None
        best_at = 0.0
        floor = max(self._global_next, self._paused_until)
        for chat_id in list(self._order):
            chat = self._chats[chat_id]
            if not chat.waiting:
                if not chat.busy:
                    self._order.remove(chat_id)
                continue
            if chat.busy:
                continue
            at = max(floor, chat.next_at)
            if best is None or at < best_at:
                best, best_at = chat_id, at
            if at <= now:
                break
        return best, best_at

    def _take(self, chat: _Chat) -> Outgoing:
        """The chat's next message, with the ones behind it merged in while they fit."""
        first = chat.waiting.popleft()
        if first.buttons:
            return first
        text, silent, ids = first.text, first.silent, first.outbox_ids
        while chat.waiting and not chat.waiting[0].buttons:
            candidate = chat.waiting[0]
            if len(text) + len(MERGE_SEPARATOR) + len(candidate.text) > LIMIT:
                break
            chat.waiting.popleft()
            text = text + MERGE_SEPARATOR + candidate.text
            silent = silent and candidate.silent           # one sound when any part wants it
            ids = ids + candidate.outbox_ids
            self.stats.parts += 1
        return replace(first, text=text, silent=silent, outbox_ids=ids)

    async def _call_handling_429(self, message: Outgoing) -> None:
        # A 429 comes back here, not sent again by the pacer: this queue re-queues, merges and pauses.
        ours = caller_retries.set(True)
        try:
            await self._call(message)
        finally:
            caller_retries.reset(ours)

    async def _send(self, chat_id: int, chat: _Chat, message: Outgoing) -> None:
        loop = asyncio.get_running_loop()
        try:
            await self._call_handling_429(message)
        except TelegramRetryAfter as exc:
            self.stats.retry_after += 1
            # Telegram does not say whether the chat or the whole bot went too fast: pause all.
            until = loop.time() + exc.retry_after
            self.stats.paused_seconds += max(0.0, until - max(self._paused_until, loop.time()))
            self._paused_until = max(self._paused_until, until)
            chat.waiting.appendleft(message)
            log.info("Telegram asked to wait %s s; sending paused", exc.retry_after)
        except (TelegramForbiddenError, TelegramUnauthorizedError, TelegramNotFound) as exc:
            await self._drop(chat_id, message, exc)
        except TelegramBadRequest as exc:
            if "parse" in exc.message.lower() and message.text != as_plain_text(message.text):
                log.warning("chat %s: Telegram could not parse a message (%s); sending it as plain text",
                            chat_id, exc.message)
                chat.waiting.appendleft(replace(message, text=as_plain_text(message.text)))
            else:
                await self._drop(chat_id, message, exc)
        except asyncio.CancelledError:
            chat.waiting.appendleft(message)
            raise
        except Exception as exc:        # network, 5xx, timeouts: tried again, never lost
            chat.failures += 1
            self.stats.failures += 1
            chat.next_at = loop.time() + min(self.max_backoff, 2.0 ** min(chat.failures, 10))
            chat.waiting.appendleft(message)
            log.warning("chat %s: send failed (%s); trying again in %.0f s", chat_id, type(exc).__name__,
                        chat.next_at - loop.time())
            if self.on_failed is not None and message.outbox_ids:
                await self._report(self.on_failed, message.outbox_ids, f"{type(exc).__name__}: {exc}"[:200])
        else:
            chat.failures = 0
            self.stats.sent += 1
            self.stats.parts += 1
            if self.on_sent is not None and message.outbox_ids:
                await self._report(self.on_sent, message.outbox_ids)
        finally:
            chat.busy = False

    async def _call(self, message: Outgoing) -> None:
        # parse_mode=None on a plain-text retry would still get the bot's default HTML: say it.
        plain = message.text == as_plain_text(message.text) and ("<" in message.text or "&" in message.text)
        await self.bot.send_message(message.chat_id, message.text, disable_notification=message.silent,
                                    reply_markup=keyboard(message.buttons), parse_mode=None if plain else "HTML")

    async def _drop(self, chat_id: int, message: Outgoing, exc: Exception) -> None:
        self.stats.dropped += 1
        log.warning("chat %s: Telegram refused a message for good (%s); not sent", chat_id, exc)
        if self.on_dropped is not None:
            await self._report(self.on_dropped, message.outbox_ids, f"{type(exc).__name__}: {exc}"[:200])

    @staticmethod
    async def _report(callback: Callable[..., Awaitable[None]], *args: object) -> None:
        try:
            await callback(*args)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("could not record a delivery outcome")
