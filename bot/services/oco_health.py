"""OCO health from the database mirror: orphan legs, incomplete groups, quantity mismatches,
groups where both legs filled, and unprotected holdings. Feeds `/orders` and the daily alert."""

from __future__ import annotations

from bot.domain.oco_health import OcoHealth
from bot.services.open_book import OpenBookReader, health_of


class OcoHealthService:
    def __init__(self, mode: str, account: str = "main") -> None:
        self.mode = mode
        self.account = account
        self.book = OpenBookReader(mode, account)

    async def check(self) -> OcoHealth:
        return health_of(await self.book.read())
