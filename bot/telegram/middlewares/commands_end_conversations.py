"""A command ends any open conversation: without this, /orders typed while the bot waits for a
watchlist amount would run, yet the next plain text would still be taken as that amount."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, TelegramObject


def is_command(message: Message) -> bool:
    return bool(message.text) and (message.text or "").startswith("/")


class CommandsEndConversations(BaseMiddleware):
    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        state: FSMContext | None = data.get("state")
        if state is not None and isinstance(event, Message) and is_command(event):
            # Before the handlers run, so the command itself may open a new conversation.
            await state.clear()
        return await handler(event, data)
