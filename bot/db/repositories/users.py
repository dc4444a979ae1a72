"""People using the bot: their language, time zone and notification choices."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.db.models import User

# Every column but the identity and the timestamps is a setting the user may change.
_SETTINGS = frozenset(User._meta.fields_map) - {"telegram_id", "created_at", "updated_at"}


class UserRepository:
    async def get(self, telegram_id: int) -> User | None:
        row: User | None = await User.get_or_none(telegram_id=telegram_id)
        return row

    async def language(self, telegram_id: int) -> str | None:
        """The language the user chose, or None (never chosen, or unknown user)."""
        row = await self.get(telegram_id)
        return row.language if row is not None else None

    async def languages(self, telegram_ids: Iterable[int]) -> dict[int, str | None]:
        """telegram_id -> chosen language (None when never chosen) for each id, in one query."""
        ids = list(telegram_ids)
        chosen = {row.telegram_id: row.language for row in await User.filter(telegram_id__in=ids)} if ids else {}
        return {i: chosen.get(i) for i in ids}

    async def many(self, telegram_ids: Iterable[int]) -> dict[int, User]:
        """The stored users among these ids (an id never seen is absent), in one query."""
        ids = list(telegram_ids)
        return {row.telegram_id: row for row in await User.filter(telegram_id__in=ids)} if ids else {}

    async def set_notification_levels(self, telegram_id: int, levels: dict[str, str]) -> User:
        """Replace the user's per-kind levels (kind -> on | silent | off)."""
        return await self.update(telegram_id, notification_levels=dict(levels))

    async def ensure(self, telegram_id: int) -> User:
        row, _ = await User.get_or_create(telegram_id=telegram_id)
        return row

    async def update(self, telegram_id: int, /, **settings: Any) -> User:
        """Set some of the user's settings (language, timezone, notify_*, notification_levels, default
        stop-loss / take-profit percent...), creating the user if needed."""
        unknown = set(settings) - _SETTINGS
        if unknown:
            raise ValueError(f"not a user setting: {', '.join(sorted(unknown))}")
        row = await self.ensure(telegram_id)
        for name, value in settings.items():
            setattr(row, name, value)
        await row.save()
        return row

    async def set_language(self, telegram_id: int, language: str | None) -> User:
        return await self.update(telegram_id, language=language)

    async def set_timezone(self, telegram_id: int, timezone: str | None) -> User:
        return await self.update(telegram_id, timezone=timezone)
