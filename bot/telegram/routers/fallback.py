"""The catch-all: registered after every feature router, it answers whatever none of them took
(an unknown command, plain text, a sticker, a button from an old message) with a pointer to /help.

Only outside conversations (`StateFilter(None)`): a step of a multi-step edit belongs to its router,
even when that router lets it pass."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n

from bot.telegram.views.fallback import render_not_understood, render_stale_button, render_unknown_command
from bot.telegram.wording import Reader


def build_router() -> Router:
    router = Router(name="fallback")

    @router.message(StateFilter(None))
    async def anything_else(message: Message, i18n: I18n) -> None:
        reader = Reader(i18n, i18n.current_locale)
        text = (message.text or "").strip()
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0].split("@", 1)[0]
            await message.answer(render_unknown_command(command, reader))
        else:
            await message.answer(render_not_understood(reader))

    @router.callback_query()
    async def stale_button(query: CallbackQuery, i18n: I18n) -> None:
        await query.answer(render_stale_button(Reader(i18n, i18n.current_locale)), show_alert=False)

    return router
