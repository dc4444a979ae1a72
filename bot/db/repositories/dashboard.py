"""The Mini App's list reads (up to 500 rows a page, as its API allows): orders, snapshots, watchlist, signals.

Pages are "the `limit` rows after this key" in a fixed order (a time column, then the row id as the
unique tiebreaker), so the last of 100,000 orders costs what the first does, and rows arriving
between two requests never shift a page. The cursor is opaque: the last row's key with the list's
name, base64url-encoded JSON; one from another list, or edited, is `InvalidCursor` (a 400).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Max

from bot.db.models import (
    IndicatorSnapshot,
    OcoGroupRecord,
    OrderRecord,
    PortfolioSnapshot,
    SignalRecord,
    SyncCursor,
    User,
    WatchlistEntry,
)
from bot.db.repositories.pagination import InvalidCursor, Page
from bot.domain.orders import FINAL_STATUSES, OrderStatus

OPEN_STATUSES = [s.value for s in OrderStatus if not s.is_final]
FINAL_STATUS_VALUES = [s.value for s in FINAL_STATUSES]
ACTIVE_GROUP_STATES = ["placing", "active", "both_filled"]
MAX_LIMIT = 500
ORDER_COLUMNS = ("id", "exchange_order_id", "client_oid", "symbol", "side", "order_type", "status", "role", "source",
                 "quantity", "price", "trigger_price", "filled_quantity", "avg_price", "cumulative_value", "fee",
                 "fee_currency", "create_time_ns", "oco_group_id")   # the time from create_time_ns: no date parsing
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ns(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


def encode_cursor(name: str, key: list[Any]) -> str:
    body = json.dumps({"l": name, "k": key}, separators=(",", ":"))
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def decode_cursor(name: str, cursor: str, types: tuple[type, ...]) -> list[Any]:
    try:
        body = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("malformed cursor") from exc
    if not isinstance(body, dict) or body.get("l") != name:
        raise InvalidCursor("cursor belongs to another list")
    key = body.get("k")
    if not (isinstance(key, list) and len(key) == len(types)
            and all(isinstance(v, t) and not isinstance(v, bool) for v, t in zip(key, types, strict=True))):
        raise InvalidCursor("malformed cursor")
    return key


@dataclass(frozen=True)
class OrderFilter:
    """Executed orders narrowed by a person: `since` inclusive, `until` exclusive, on the creation time."""
    symbol: str | None = None
    side: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, query: Any) -> Any:
        if self.symbol:
            query = query.filter(symbol=self.symbol)
        if self.side:
            query = query.filter(side=self.side)
        if self.status:
            query = query.filter(status=self.status)
        if self.since is not None:
            query = query.filter(create_time_ns__gte=epoch_ns(self.since))
        if self.until is not None:
            query = query.filter(create_time_ns__lt=epoch_ns(self.until))
        return query


class DashboardRepository:
    def __init__(self, mode: str, account: str = "main") -> None:
        self.mode = mode
        self.account = account

    def _orders(self) -> Any:
        return OrderRecord.filter(mode=self.mode, account=self.account)

    # Orders --------------------------------------------------------------------------------

    async def open_orders(self) -> list[OrderRecord]:
        """Every open order, newest first: the whole set (open orders are few; none is left out). Sorted
        here: an ORDER BY on the time would lead SQLite down the history's time index, past every
        order ever stored, instead of the status index to the few open ones."""
        rows: list[OrderRecord] = await self._orders().filter(status__in=OPEN_STATUSES)
        rows.sort(key=lambda row: (row.create_time_ns, row.id), reverse=True)
        return rows

    async def count_open_orders(self) -> int:
        total: int = await self._orders().filter(status__in=OPEN_STATUSES).count()
        return total

    async def active_groups(self) -> list[OcoGroupRecord]:
        rows: list[OcoGroupRecord] = await OcoGroupRecord.filter(
            mode=self.mode, account=self.account, state__in=ACTIVE_GROUP_STATES).order_by("-created_at")
        return rows

    async def legs_of_groups(self, group_ids: Iterable[str]) -> list[OrderRecord]:
        ids = list(group_ids)
        if not ids:
            return []
        rows: list[OrderRecord] = await self._orders().filter(oco_group_id__in=ids).order_by("id")
        return rows

    def _executed(self, filters: OrderFilter) -> Any:
        return filters.apply(self._orders().filter(status__in=FINAL_STATUS_VALUES, filled_quantity__gt=Decimal(0)))

    async def executed_page(self, filters: OrderFilter, *, cursor: str | None, limit: int,
                            newest_first: bool = True) -> Page[dict[str, Any]]:
        """Orders that ended with something filled, by creation time (then id), as plain column values
        (`ORDER_COLUMNS`): a list for reading, without building a model object per row."""
        name = "orders.executed" + ("" if newest_first else ".asc")
        query = self._executed(filters)
        if cursor:
            moment, row_id = decode_cursor(name, cursor, (int, int))
            # The bound on the time alone first, so the (mode, account, create_time_ns, id) index
            # is searched as a range; the OR only settles rows that share the boundary time.
            if newest_first:
                query = query.filter(create_time_ns__lte=moment).filter(Q(create_time_ns__lt=moment)
                                                                       | Q(id__lt=row_id))
            else:
                query = query.filter(create_time_ns__gte=moment).filter(Q(create_time_ns__gt=moment)
                                                                       | Q(id__gt=row_id))
        sign = "-" if newest_first else ""
        rows = list(await query.order_by(f"{sign}create_time_ns", f"{sign}id").limit(limit + 1).values(
            *ORDER_COLUMNS))
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(name, [rows[-1]["create_time_ns"], rows[-1]["id"]]) if more and rows else None
        return Page(rows, next_cursor)

    async def executed_batches(self, filters: OrderFilter, *, newest_first: bool = True,
                               batch: int = 1000) -> AsyncIterator[list[dict[str, Any]]]:
        """The whole filtered set in batches (for a streamed export): memory stays one batch."""
        cursor: str | None = None
        while True:
            page = await self.executed_page(filters, cursor=cursor, limit=batch, newest_first=newest_first)
            if page.items:
                yield page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    # Portfolio -----------------------------------------------------------------------------

    def _snapshots(self) -> Any:
        return PortfolioSnapshot.filter(mode=self.mode, account=self.account)

    async def latest_snapshot(self) -> PortfolioSnapshot | None:
        row: PortfolioSnapshot | None = await self._snapshots().order_by("-taken_at", "-id").first()
        return row

    async def snapshot_before(self, moment: datetime) -> PortfolioSnapshot | None:
        """The last snapshot taken at or before `moment` (the reference for a change over a period)."""
        row: PortfolioSnapshot | None = await self._snapshots().filter(taken_at__lte=moment).order_by(
            "-taken_at", "-id").first()
        return row

    async def snapshot_totals_page(self, *, since: datetime | None, until: datetime | None, cursor: str | None,
                                   limit: int) -> Page[tuple[int, datetime, Decimal]]:
        """(id, taken_at, total_usd) oldest first: the points of a value-over-time chart."""
        name = "portfolio.history"
        query = self._snapshots()
        if since is not None:
            query = query.filter(taken_at__gte=since)
        if until is not None:
            query = query.filter(taken_at__lt=until)
        if cursor:
            moment_text, row_id = decode_cursor(name, cursor, (str, int))
            try:
                moment = datetime.fromisoformat(moment_text)
            except ValueError as exc:
                raise InvalidCursor("malformed cursor") from exc
            query = query.filter(Q(taken_at__gt=moment) | Q(taken_at=moment, id__gt=row_id))
        rows = list(await query.order_by("taken_at", "id").limit(limit + 1).values_list("id", "taken_at", "total_usd"))
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(name, [rows[-1][1].isoformat(), rows[-1][0]]) if more and rows else None
        return Page([(i, t, v) for i, t, v in rows], next_cursor)

    # Watchlist, signals --------------------------------------------------------------------

    async def watchlist_page(self, *, cursor: str | None, limit: int) -> Page[WatchlistEntry]:
        name = "watchlist"
        query = WatchlistEntry.all()
        if cursor:
            (after,) = decode_cursor(name, cursor, (str,))
            query = query.filter(symbol__gt=after)
        rows = list(await query.order_by("symbol").limit(limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, encode_cursor(name, [rows[-1].symbol]) if more and rows else None)

    async def watchlist_symbols(self) -> list[str]:
        symbols = await WatchlistEntry.all().order_by("symbol").values_list("symbol", flat=True)
        return [str(s) for s in symbols]

    async def latest_signals(self, symbols: Iterable[str]) -> dict[str, SignalRecord]:
        """The newest decision of each coin, in two queries whatever the number of coins."""
        wanted = list(symbols)
        if not wanted:
            return {}
        newest = await SignalRecord.filter(symbol__in=wanted).annotate(newest=Max("decided_at")).group_by(
            "symbol").values_list("symbol", "newest")
        moments = {symbol: moment for symbol, moment in newest}
        if not moments:
            return {}
        rows = await SignalRecord.filter(symbol__in=list(moments), decided_at__in=list(set(moments.values())))
        out: dict[str, SignalRecord] = {}
        for row in rows:
            if row.decided_at == moments.get(row.symbol) and (row.symbol not in out or row.id > out[row.symbol].id):
                out[row.symbol] = row
        return out

    async def latest_indicators(self, symbol: str) -> IndicatorSnapshot | None:
        row: IndicatorSnapshot | None = await IndicatorSnapshot.filter(symbol=symbol).order_by(
            "-computed_at", "-id").first()
        return row

    async def open_orders_of(self, symbol: str) -> list[OrderRecord]:
        rows: list[OrderRecord] = await self._orders().filter(symbol=symbol, status__in=OPEN_STATUSES).order_by("id")
        return rows

    # People and the sync -------------------------------------------------------------------

    async def reader_choices(self, telegram_id: int) -> tuple[str | None, str | None]:
        """The reader's saved language and time zone (None where never chosen)."""
        row = await User.get_or_none(telegram_id=telegram_id)
        return (row.language, row.timezone) if row is not None else (None, None)

    async def last_sync(self) -> datetime | None:
        """When the sync last moved one of its cursors (order history, open orders) for this account."""
        row = await SyncCursor.filter(name__startswith=f"{self.mode}:{self.account}:").order_by("-updated_at").first()
        return row.updated_at if row is not None else None

