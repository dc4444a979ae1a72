"""Language of each update: the user's saved choice, else Telegram's language_code, else the default."""

from __future__ import annotations

from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from bot.db.repositories import UserRepository
from bot.presentation.language import SUPPORTED, pick_language

__all__ = ["SUPPORTED", "LanguageMiddleware", "pick_language"]


class LanguageMiddleware(I18nMiddleware):
    def __init__(self, i18n: I18n, default_language: str, users: UserRepository | None = None) -> None:
        super().__init__(i18n)
        self.default_language = default_language
        self.users = users or UserRepository()

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("event_from_user")
        if user is None:
            return self.default_language
        saved = await self.users.language(user.id)
        return pick_language(saved, user.language_code, self.default_language)
