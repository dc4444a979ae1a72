"""Only allowed Telegram users see or do anything: messages AND button presses are covered."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, User
from aiogram.utils.i18n import gettext as _

log = logging.getLogger(__name__)


class AllowListMiddleware(BaseMiddleware):
    def __init__(self, allowed_users: Iterable[int]) -> None:
        self.allowed = frozenset(allowed_users)

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is not None and user.id in self.allowed:
            return await handler(event, data)
        log.warning("refused Telegram user %s", user.id if user else "unknown")
        refusal = _("Sorry, this is a private bot.")
        if isinstance(event, CallbackQuery):
            # Answer the press so the client stops its spinner, and do nothing else.
            await event.answer(refusal, show_alert=False)
        elif isinstance(event, Message):
            await event.answer(refusal)
        return None
