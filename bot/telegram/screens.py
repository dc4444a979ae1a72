"""Small pieces the market views share: a screen (text + keyboard), showing it in place of the
pressed message, a pager row, the reader's locale, a refusal in words."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import dataclass

from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.domain.input_rules import Invalid
from bot.presentation.input_errors import invalid_text

log = logging.getLogger(__name__)
esc = html.escape


@dataclass(frozen=True)
class Screen:
    text: str
    keyboard: InlineKeyboardMarkup | None = None


def current_locale() -> str:
    return str(get_i18n().current_locale)


def refusal(invalid: Invalid) -> str:
    """The refusal in the reader's language, escaped for HTML."""
    return esc(invalid_text(invalid, _, current_locale()))


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def pager_row(page: int, pages: int, make: Callable[[int], CallbackData]) -> list[InlineKeyboardButton]:
    """◀ 2/5 ▶ (the middle button reloads the page); empty for a single page."""
    if pages <= 1:
        return []
    row = []
    if page > 0:
        row.append(button("◀", make(page - 1)))
    row.append(button(f"{page + 1}/{pages}", make(page)))
    if page < pages - 1:
        row.append(button("▶", make(page + 1)))
    return row


def page_count(total: int, size: int) -> int:
    return max(1, -(-total // size))


async def show(query: CallbackQuery, screen: Screen) -> None:
    """Replace the pressed message with `screen` (a refresh edits in place); a message the bot can
    no longer edit gets the screen as a new message instead."""
    message = query.message
    if isinstance(message, Message):
        try:
            await message.edit_text(screen.text, reply_markup=screen.keyboard)
            return
        except TelegramBadRequest as exc:
            if "not modified" in str(exc):      # a refresh with nothing new: nothing to do
                return
            log.info("could not edit message %s (%s): sending a new one", message.message_id, exc)
    if message is not None and query.bot is not None:
        await query.bot.send_message(message.chat.id, screen.text, reply_markup=screen.keyboard)


async def reply(message: Message, screen: Screen) -> Message:
    return await message.answer(screen.text, reply_markup=screen.keyboard)
