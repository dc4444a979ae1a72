"""What the bot did and must still tell: automatic-order decisions, the audit log of exchange
actions, and the notification outbox."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from bot.db.models import AuditLog, AutoOrderDecision, NotificationOutbox
from bot.db.repositories.newest import newest_per_symbol


class AutoOrderDecisionRepository:
    def __init__(self, mode: str) -> None:
        self.mode = mode

    async def placed_for(self, client_oid: str) -> AutoOrderDecision | None:
        """The decision that placed this client_oid's buy, if any (a replayed signal finds it)."""
        row: AutoOrderDecision | None = await AutoOrderDecision.filter(client_oid=client_oid, allowed=True).first()
        return row

    async def last_placed(self, symbol: str) -> AutoOrderDecision | None:
        row: AutoOrderDecision | None = await AutoOrderDecision.filter(
            symbol=symbol, allowed=True, mode=self.mode).order_by("-decided_at", "-id").first()
        return row

    async def latest(self, symbols: Iterable[str]) -> dict[str, AutoOrderDecision]:
        """The newest decision (placed or refused) of each coin, in this mode."""
        return {r.symbol: r for r in await newest_per_symbol(AutoOrderDecision, symbols, mode=self.mode)}

    async def record(self, *, symbol: str, allowed: bool, price: Decimal | None, decided_at: datetime,
                     rule: str | None = None, detail: str = "", args: Iterable[tuple[str, str]] = (),
                     client_oid: str | None = None) -> AutoOrderDecision:
        row: AutoOrderDecision = await AutoOrderDecision.create(
            mode=self.mode, symbol=symbol, allowed=allowed, rule=rule, detail=detail, args=dict(args), price=price,
            client_oid=client_oid, decided_at=decided_at)
        return row


class AuditLogRepository:
    def __init__(self, mode: str, account: str = "main") -> None:
        self.mode = mode
        self.account = account

    async def record(self, *, action: str, symbol: str | None, client_oid: str | None,
                     exchange_order_id: str | None, request: dict[str, Any], outcome: str, detail: str) -> None:
        await AuditLog.create(mode=self.mode, account=self.account, action=action, symbol=symbol,
                              client_oid=client_oid, exchange_order_id=exchange_order_id, request=request,
                              outcome=outcome, detail=detail)


class OutboxRepository:
    async def pending(self) -> list[NotificationOutbox]:
        rows: list[NotificationOutbox] = await NotificationOutbox.filter(sent_at=None).order_by("id")
        return rows

    async def add(self, kind: str, payload: dict[str, Any]) -> NotificationOutbox:
        row: NotificationOutbox = await NotificationOutbox.create(kind=kind, payload=payload)
        return row

    async def mark_sent(self, outbox_id: int) -> None:
        await NotificationOutbox.filter(id=outbox_id).update(sent_at=datetime.now(UTC))

    async def add_many(self, rows: Sequence[tuple[str, dict[str, Any]]]) -> list[NotificationOutbox]:
        """(kind, payload) rows, stored in one transaction, in order, with their ids."""
        if not rows:
            return []
        async with in_transaction():
            return [await NotificationOutbox.create(kind=kind, payload=payload) for kind, payload in rows]

    async def mark_sent_many(self, outbox_ids: Iterable[int]) -> None:
        ids = list(outbox_ids)
        if ids:
            await NotificationOutbox.filter(id__in=ids).update(sent_at=datetime.now(UTC))

    async def mark_attempt_failed(self, outbox_ids: Iterable[int], error: str) -> None:
        """One more failed attempt (the row stays pending and is tried again)."""
        ids = list(outbox_ids)
        if ids:
            await NotificationOutbox.filter(id__in=ids).update(attempts=F("attempts") + 1, last_error=error[:255])

    async def mark_given_up(self, outbox_ids: Iterable[int], error: str) -> None:
        """Telegram refused these for good (the user blocked the bot): done, with the reason kept."""
        ids = list(outbox_ids)
        if ids:
            await NotificationOutbox.filter(id__in=ids).update(
                sent_at=datetime.now(UTC), attempts=F("attempts") + 1, last_error=f"given up: {error}"[:255])
