"""/start and /help, and the menu buttons that lead to them."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.telegram.commands import COMMANDS


class MenuAction(CallbackData, prefix="menu"):
    action: str


def render_start(first_name: str, mode: str) -> tuple[str, InlineKeyboardMarkup]:
    mode_text = _("paper trading (simulated)") if mode == "paper" else _("LIVE trading")
    text = _("Hello, {name}! I watch your crypto.com account, protect your buys with a stop-loss and a "
             "take-profit, and tell you what happens.").format(name=first_name) + "\n\n" + \
        _("Mode: {mode}").format(mode=mode_text)
    keyboard = InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=_("Help"), callback_data=MenuAction(action="help").pack())],
    ])
    return text, keyboard


def render_help() -> str:
    lines = [_("Commands:")]
    lines += [f"/{command} — {description}" for command, description in COMMANDS]
    return "\n".join(lines)


def build_router(mode: str) -> Router:
    router = Router(name="start")

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        name = message.from_user.first_name if message.from_user else ""
        text, keyboard = render_start(name, mode)
        await message.answer(text, reply_markup=keyboard)

    @router.message(Command("help"))
    async def help_command(message: Message) -> None:
        await message.answer(render_help())

    @router.callback_query(MenuAction.filter(F.action == "help"))
    async def help_button(query: CallbackQuery) -> None:
        await query.answer()
        if query.message is not None:
            await query.message.answer(render_help())

    return router
