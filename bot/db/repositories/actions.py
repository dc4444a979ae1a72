"""Queries for actions awaiting confirmation and for the daily reports already sent.

Both are claimed with one conditional write, so two presses, two devices or two replicas racing
for the same action (or the same day's report) find exactly one winner in the database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from bot.db.models import DailyReportSent, PendingAction

ACTION_ID_LENGTH = PendingAction._meta.fields_map["id"].max_length  # type: ignore[attr-defined]


class PendingActionRepository:
    async def create(self, *, action_id: str, telegram_id: int, kind: str, payload: dict[str, Any], mode: str,
                     expires_at: datetime) -> PendingAction:
        row: PendingAction = await PendingAction.create(
            id=action_id, telegram_id=telegram_id, kind=kind, payload=payload, mode=mode, state="pending",
            expires_at=expires_at)
        return row

    async def get(self, action_id: str) -> PendingAction | None:
        """None for an id no action can have (a group id of another kind, a forged button): Tortoise
        refuses to even look up a value longer than the column."""
        if len(action_id) > ACTION_ID_LENGTH:
            return None
        row: PendingAction | None = await PendingAction.get_or_none(id=action_id)
        return row

    async def claim(self, action_id: str, telegram_id: int, *, now: datetime, stale_before: datetime) -> bool:
        """pending (and not expired) -> running for its owner; True for the one caller that won.
        A run left "running" since before `stale_before` (a crash) may be taken over: both kinds of
        action are idempotent on the exchange, so running one again finds what the first one did."""
        won: int = await PendingAction.filter(id=action_id, telegram_id=telegram_id, state="pending",
                                              expires_at__gt=now).update(state="running", decided_at=now)
        if won:
            return True
        resumed: int = await PendingAction.filter(id=action_id, telegram_id=telegram_id, state="running",
                                                  decided_at__lt=stale_before).update(decided_at=now)
        return bool(resumed)

    async def finish(self, action_id: str, state: str, result: dict[str, Any]) -> None:
        await PendingAction.filter(id=action_id).update(state=state, result=result)

    async def dismiss(self, action_id: str, telegram_id: int, *, now: datetime) -> bool:
        dismissed: int = await PendingAction.filter(id=action_id, telegram_id=telegram_id, state="pending").update(
            state="canceled", decided_at=now)
        return bool(dismissed)

    async def delete_unused_before(self, moment: datetime) -> int:
        """Previews never confirmed (dismissed, or left to expire) whose time ended before `moment`.
        A confirmed one stays: its id is the client_oid of what it placed, and its result is the
        record of what its owner chose."""
        deleted: int = await PendingAction.filter(state__in=("pending", "canceled"), expires_at__lt=moment).delete()
        return deleted


class DailyReportRepository:
    async def installed_at(self) -> datetime | None:
        """When this database got its first migration: when the bot began watching the account."""
        rows = await DailyReportSent._meta.db.execute_query_dict(
            "SELECT MIN(applied_at) AS first FROM tortoise_migrations")
        first = rows[0]["first"] if rows else None
        if isinstance(first, str):                      # SQLite answers text
            first = datetime.fromisoformat(first)
        if isinstance(first, datetime) and first.tzinfo is None:
            first = first.replace(tzinfo=UTC)
        return first if isinstance(first, datetime) else None

    async def claim(self, telegram_id: int, day: date) -> bool:
        """Record the day's report as sent; False when it already was (here, or by another replica)."""
        try:
            await DailyReportSent.create(telegram_id=telegram_id, day=day)
        except IntegrityError:
            return False
        return True

    async def release(self, telegram_id: int, day: date) -> None:
        """The send failed after the claim: the next tick may try again."""
        await DailyReportSent.filter(telegram_id=telegram_id, day=day).delete()

    async def sent_days(self, telegram_id: int) -> list[date]:
        rows = await DailyReportSent.filter(telegram_id=telegram_id).order_by("day")
        return [row.day for row in rows]
