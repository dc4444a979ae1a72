"""Who is reading an update: the language the middleware chose, and the user's time zone."""

from __future__ import annotations

from aiogram.types import User
from aiogram.utils.i18n import I18n

from bot.services.user_settings import UserSettingsService
from bot.telegram.wording import Reader


async def reader_for(user: User | None, i18n: I18n, user_settings: UserSettingsService) -> Reader:
    """The language the middleware chose for this update, and the user's time zone."""
    timezone = await user_settings.timezone(user.id) if user is not None else user_settings.defaults.timezone
    return Reader(i18n, i18n.current_locale, timezone)
