"""Where the sync and the back-fill stopped, per mode + account (survives restarts)."""

from __future__ import annotations

from typing import Any

from tortoise.exceptions import IntegrityError

from bot.db.models import SyncCursor


class SyncCursorRepository:
    def __init__(self, mode: str, account: str = "main") -> None:
        self.mode = mode
        self.account = account

    def name(self, what: str) -> str:
        return f"{self.mode}:{self.account}:{what}"

    async def get(self, what: str) -> SyncCursor | None:
        row: SyncCursor | None = await SyncCursor.get_or_none(name=self.name(what))
        return row

    async def save(self, what: str, value: int, data: dict[str, Any] | None = None) -> None:
        name = self.name(what)
        row = await SyncCursor.get_or_none(name=name)
        if row is None:
            try:
                await SyncCursor.create(name=name, value=value, data=data or {})
                return
            except IntegrityError:          # created meanwhile (the back-fill task and a cycle)
                row = await SyncCursor.get(name=name)
        row.value = value
        if data is not None:
            row.data = data
        await row.save()
