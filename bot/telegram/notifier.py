"""Turns domain events into Telegram messages for every allowed user.

Rendering is pure (event + locale -> HTML text). Sending goes through one queue that honours
Telegram's retry_after and splits long texts at 4,096 characters. Events are written to the outbox
before sending and marked sent after, so a crash in between loses nothing.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.utils.i18n import I18n

from bot.db.repositories import NotificationOutbox, OutboxRepository, UserRepository
from bot.domain.events import (
    Event,
    OcoLegDone,
    OrderCanceled,
    OrderFilled,
    OrderRejected,
    ProtectionFailed,
    ProtectionPlaced,
)
from bot.domain.money import plain
from bot.domain.reasons import TEMPLATES as REASON_TEMPLATES
from bot.exchange.codes import message_key
from bot.services.events import EventBus
from bot.telegram.middlewares.language import pick_language

log = logging.getLogger(__name__)
LIMIT = 4096


def N_(text: str) -> str:
    """Marks a message for extraction; translated at render time."""
    return text


# Extracted by pybabel (-k N_): f-strings hide their calls from the extractor.
MESSAGES = (
    N_("Partly filled"),
    N_("Order filled"),
    N_("Order canceled"),
    N_("Order rejected"),
    N_("Protection placed"),
    N_("entry"),
    N_("Protection FAILED"),
    N_("wanted"),
    N_("protected"),
    N_("Take-profit"),
    N_("Stop-loss"),
    N_("P/L"),
)

def reason_text(event: ProtectionFailed, t: Callable[[str], str]) -> str:
    """The failure's reason in the reader's language (the English text when it has no template)."""
    template = REASON_TEMPLATES.get(event.reason_key)
    if template is None:
        return event.reason
    values = dict(event.reason_args)
    code = values.get("code", "")
    key = message_key(code)
    if key is not None:     # the exchange's refusals users meet most, worded per language (the code stays for support)
        values["exchange"] = f"{t(key)} ({code})"
    try:
        return t(template).format(**values)
    except (KeyError, IndexError, ValueError):
        log.warning("translation of reason %s does not fit its values", event.reason_key)
        return event.reason


def _n(value: Decimal | None) -> str:
    return "—" if value is None else plain(value)


def render_event(event: Event, i18n: I18n, locale: str) -> str | None:
    """The message for one event, or None for events users are not told about."""
    def t(text: str) -> str:
        return i18n.gettext(text, locale=locale)

    esc = html.escape
    if isinstance(event, OrderFilled):
        head = t("Partly filled") if event.partial else t("Order filled")
        return f"✅ <b>{esc(head)}</b>: {esc(event.side)} {_n(event.quantity)} {esc(event.symbol)} @ {_n(event.price)}"
    if isinstance(event, OrderCanceled):
        return f"✖️ <b>{esc(t('Order canceled'))}</b>: {esc(event.side)} {_n(event.quantity)} {esc(event.symbol)}"
    if isinstance(event, OrderRejected):
        reason = event.reason
        key = message_key(reason)
        if key is not None:      # the exchange's reason code, worded for the reader
            reason = f"{t(key)} ({reason})"
        return (f"⛔ <b>{esc(t('Order rejected'))}</b>: {esc(event.side)} {_n(event.quantity)} {esc(event.symbol)}"
                f"\n{esc(reason)}")
    if isinstance(event, ProtectionPlaced):
        return (f"🛡 <b>{esc(t('Protection placed'))}</b>: {esc(event.symbol)} {_n(event.quantity)}\n"
                f"SL {_n(event.stop_loss_price)} · TP {_n(event.take_profit_price)} "
                f"({esc(t('entry'))} {_n(event.entry_price)})")
    if isinstance(event, ProtectionFailed):
        return (f"⚠️ <b>{esc(t('Protection FAILED'))}</b>: {esc(event.symbol)}\n"
                f"{esc(t('wanted'))} {_n(event.wanted_quantity)}, {esc(t('protected'))} "
                f"{_n(event.protected_quantity)}\n{esc(reason_text(event, t))}")
    if isinstance(event, OcoLegDone):
        leg = t("Take-profit") if event.leg == "take_profit" else t("Stop-loss")
        return (f"🏁 <b>{esc(leg)}</b>: {esc(event.symbol)} {_n(event.quantity)} @ {_n(event.exit_price)}\n"
                f"{esc(t('P/L'))}: {_n(event.pnl)} ({esc(t('entry'))} {_n(event.entry_price)})")
    return None


def split_text(text: str, limit: int = LIMIT) -> list[str]:
    """Chunks of at most `limit` characters, cut at line ends where possible."""
    chunks: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > 0 else limit
        chunks.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*chunks, text] if text else chunks


class Notifier:
    EVENTS = (OrderFilled, OrderCanceled, OrderRejected, ProtectionPlaced, ProtectionFailed, OcoLegDone)

    def __init__(self, bot: Bot, events: EventBus, i18n: I18n, allowed_users: Iterable[int],
                 default_language: str, *, outbox: OutboxRepository | None = None,
                 users: UserRepository | None = None) -> None:
        self.bot = bot
        self.outbox = outbox or OutboxRepository()
        self.users = users or UserRepository()
        self.i18n = i18n
        self.allowed = tuple(allowed_users)
        self.default_language = default_language
        self.queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        for event_type in self.EVENTS:
            events.subscribe(event_type, self.on_event)

    async def start(self) -> None:
        self._worker = asyncio.create_task(self._send_loop(), name="notifier")
        for row in await self.outbox.pending():
            await self._enqueue_row(row)

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)

    async def on_event(self, event: Event) -> None:
        payloads: dict[str, Any] = {}
        languages = await self.users.languages(self.allowed)
        for user_id in self.allowed:
            locale = pick_language(languages[user_id], None, self.default_language)
            text = render_event(event, self.i18n, locale)
            if text is not None:
                payloads[str(user_id)] = text
        if payloads:
            row = await self.outbox.add(type(event).__name__, payloads)
            await self._enqueue_row(row)

    async def _enqueue_row(self, row: NotificationOutbox) -> None:
        for user_id, text in row.payload.items():
            for chunk in split_text(text):
                self.queue.put_nowait((int(user_id), chunk))
        self.queue.put_nowait((0, f"sent:{row.id}"))

    async def _send_loop(self) -> None:
        while True:
            chat_id, text = await self.queue.get()
            if chat_id == 0:
                await self.outbox.mark_sent(int(text.split(":")[1]))
                continue
            for attempt in range(5):
                try:
                    await self.bot.send_message(chat_id, text)
                    break
                except TelegramRetryAfter as exc:
                    await asyncio.sleep(exc.retry_after)
                except Exception as exc:
                    log.warning("notification to %s failed (attempt %d): %s", chat_id, attempt + 1,
                                type(exc).__name__)
                    await asyncio.sleep(min(2 ** attempt, 30))
