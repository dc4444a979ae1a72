"""OCO groups (one mode + account): the protection's writes, and the lists people read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.db.models import OcoGroupRecord
from bot.db.repositories.pagination import Ordering, Page, keyset_page
from bot.domain.orders import OrderRole

GROUPS = Ordering("groups", "created_at")


@dataclass(frozen=True)
class BookGroup:
    """A group as the views of the open book need it (read without a model per row)."""
    group_id: str
    symbol: str
    state: str
    quantity: Decimal
    entry_price: Decimal
    stop_loss_price: Decimal
    take_profit_price: Decimal
    native_list_id: str | None
    stop_loss_client_oid: str | None
    take_profit_client_oid: str | None


_BOOK_COLUMNS = ("id", "symbol", "state", "quantity", "entry_price", "stop_loss_price", "take_profit_price",
                 "native_list_id", "stop_loss_client_oid", "take_profit_client_oid")


class OcoGroupRepository:
    def __init__(self, mode: str, account: str = "main") -> None:
        self.mode = mode
        self.account = account

    def _groups(self) -> Any:
        return OcoGroupRecord.filter(mode=self.mode, account=self.account)

    async def get(self, group_id: str) -> OcoGroupRecord | None:
        # By id alone: the id already names mode, account and entry (see group_id_for_entry).
        row: OcoGroupRecord | None = await OcoGroupRecord.get_or_none(id=group_id)
        return row

    async def many(self, group_ids: Iterable[str]) -> list[OcoGroupRecord]:
        ids = list(group_ids)
        if not ids:
            return []
        rows: list[OcoGroupRecord] = await OcoGroupRecord.filter(id__in=ids)
        return rows

    async def book_groups(self, group_ids: Iterable[str], states: Iterable[str]) -> list[BookGroup]:
        """Every group in these states, and the groups with these ids (a second query, only for the
        few ids not among the first: a closed group whose leg is still open)."""
        found = [BookGroup(*row) for row in await self._groups().filter(state__in=list(states)).values_list(
            *_BOOK_COLUMNS)]
        missing = set(group_ids) - {g.group_id for g in found}
        if missing:
            found += [BookGroup(*row) for row in await self._groups().filter(id__in=sorted(missing)).values_list(
                *_BOOK_COLUMNS)]
        return found

    async def of_entry(self, entry_order_id: str) -> list[OcoGroupRecord]:
        """The groups protecting one buy: one per tranche (a buy filled in parts), in order."""
        rows: list[OcoGroupRecord] = await self._groups().filter(
            entry_order_id=entry_order_id).order_by("tranche")
        return rows

    async def for_leg_client_oid(self, client_oid: str) -> tuple[OcoGroupRecord, OrderRole] | None:
        """The group whose current stop-loss or take-profit has this client_oid, with the leg's role."""
        group = await self._groups().filter(stop_loss_client_oid=client_oid).first()
        if group is not None:
            return group, OrderRole.STOP_LOSS
        group = await self._groups().filter(take_profit_client_oid=client_oid).first()
        if group is not None:
            return group, OrderRole.TAKE_PROFIT
        return None

    async def in_states(self, states: Iterable[str]) -> list[OcoGroupRecord]:
        rows: list[OcoGroupRecord] = await self._groups().filter(state__in=list(states))
        return rows

    async def create(self, group_id: str, **columns: Any) -> OcoGroupRecord:
        row: OcoGroupRecord = await OcoGroupRecord.create(id=group_id, mode=self.mode, account=self.account,
                                                          **columns)
        return row

    async def save(self, group: OcoGroupRecord, *columns: str) -> None:
        """Store the group's changed attributes (only `columns` when given)."""
        if columns:
            await group.save(update_fields=[*columns, "updated_at"])
        else:
            await group.save()

    async def claim_for_replacement(self, group_id: str, by: str) -> bool:
        """active -> canceled, marked as being replaced by `by` (an action's id), in one conditional
        write: of two actions (two previews, two replicas) replacing the same group, one wins. True
        also when `by` already holds it (its run cut off and taken up again)."""
        group = await self.get(group_id)
        if group is None:
            return False
        marker = _replaced_by(by)
        if (group.failure_reason or "").startswith(marker):
            return group.state == "canceled"
        if group.state != "active":
            return False
        won: int = await self._groups().filter(id=group_id, state="active").update(
            state="canceled", failure_reason=(marker + (group.failure_reason or ""))[:255])
        return bool(won)

    async def page(self, *, states: Iterable[str] | None = None, symbol: str | None = None,
                   cursor: str | None = None, limit: int | None = None) -> Page[OcoGroupRecord]:
        """Groups newest first (by creation, then id), optionally in some states / of one symbol."""
        query = self._groups()
        if states is not None:
            query = query.filter(state__in=list(states))
        if symbol:
            query = query.filter(symbol=symbol)
        return await keyset_page(query, GROUPS, cursor=cursor, limit=limit)


def _replaced_by(action_id: str) -> str:
    return f"replaced by {action_id}; "
