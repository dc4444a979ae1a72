"""/start (the menu) and /help. A menu button runs its command as if it had been typed, so every
command in `bot.telegram.commands.COMMANDS` works from the menu without anything in its router."""

from __future__ import annotations

from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, Message, MessageEntity, Update
from aiogram.utils.i18n import I18n

from bot.telegram.commands import COMMANDS
from bot.telegram.views.menu import MenuAction, render_help, render_start
from bot.telegram.wording import Reader

MENU_COMMANDS = frozenset(c.name for c in COMMANDS if c.button is not None)


def build_router(mode: str, mini_app_url: str | None = None) -> Router:
    router = Router(name="start")

    @router.message(CommandStart())
    async def start(message: Message, i18n: I18n) -> None:
        name = message.from_user.first_name if message.from_user else ""
        text, keyboard = render_start(name, mode, Reader(i18n, i18n.current_locale), mini_app_url=mini_app_url)
        await message.answer(text, reply_markup=keyboard)

    @router.message(Command("help"))
    async def help_command(message: Message, i18n: I18n) -> None:
        await message.answer(render_help(Reader(i18n, i18n.current_locale)))

    @router.callback_query(MenuAction.filter(F.action.in_(MENU_COMMANDS)))
    async def menu_button(query: CallbackQuery, callback_data: MenuAction, dispatcher: Dispatcher, bot: Bot) -> None:
        await query.answer()
        if not isinstance(query.message, Message):
            return
        # The command goes through the dispatcher again, as the presser's own message: the allow-list,
        # the language and the command's router all apply to it as to a typed command.
        command = f"/{callback_data.action}"
        typed = query.message.model_copy(update={
            "from_user": query.from_user, "text": command, "reply_markup": None,
            "entities": [MessageEntity(type="bot_command", offset=0, length=len(command))]})
        await dispatcher.feed_update(bot, Update(update_id=0, message=typed))

    return router
