"""Mirrored exchange orders (one mode + account): the sync's writes and every view's reads.

Each exchange order is one row keyed by its exchange id; rows are inserted once and then only
updated. Bulk paths (history pages) check which ids exist first, so a re-read page writes nothing.
Lists for people (open orders, executed orders) are keyset pages newest first: by the exchange's
creation time, then the row id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.functions import Max

from bot.db.models import OcoGroupRecord, OrderRecord
from bot.db.repositories.pagination import Ordering, Page, keyset_page
from bot.domain.orders import FINAL_STATUSES, Order, OrderRole, OrderStatus, OrderType, Side

OPEN_STATUSES = [s.value for s in OrderStatus if not s.is_final]
FINAL_STATUS_VALUES = [s.value for s in FINAL_STATUSES]
BOT_CLIENT_OID_PREFIX = "cb-"
LEG_ROLES = [OrderRole.STOP_LOSS.value, OrderRole.TAKE_PROFIT.value]
OPEN_ORDERS = Ordering("orders.open", "create_time_ns")
EXECUTED_ORDERS = Ordering("orders.executed", "create_time_ns")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ns(moment: datetime) -> int:
    """Nanoseconds since the epoch, exact (a naive datetime is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


@dataclass(frozen=True)
class OrderFilter:
    """What a person narrows an order list to. `since` (inclusive) and `until` (exclusive) bound the
    order's creation time on the exchange, the same time the list is sorted by."""
    symbol: str | None = None
    side: Side | str | None = None
    status: OrderStatus | str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, query: Any) -> Any:
        """The filter on `query`; an unknown side or status raises ValueError (a 400 for the API)."""
        if self.symbol:
            query = query.filter(symbol=self.symbol.upper())
        if self.side:
            query = query.filter(side=Side(str(self.side).upper()).value)
        if self.status:
            query = query.filter(status=OrderStatus(str(self.status).upper()).value)
        if self.since is not None:
            query = query.filter(create_time_ns__gte=epoch_ns(self.since))
        if self.until is not None:
            query = query.filter(create_time_ns__lt=epoch_ns(self.until))
        return query


def order_fields(order: Order) -> dict[str, Any]:
    """The columns that mirror the exchange's view of an order."""
    return {
        "client_oid": order.client_oid or None,
        "symbol": order.symbol,
        "side": order.side.value,
        "order_type": order.order_type.value,
        "status": order.status.value,
        "quantity": order.quantity,
        "price": order.price,
        "trigger_price": order.trigger_price,
        "filled_quantity": order.filled_quantity,
        "avg_price": order.avg_price,
        "cumulative_value": order.cumulative_value,
        "fee": abs(order.fee),
        "fee_currency": order.fee_currency,
        "list_id": order.list_id,
        "reason": (order.reason or None) and str(order.reason)[:255],
        "exchange_created_at": order.created_at,
        "exchange_updated_at": order.updated_at,
        "create_time_ns": order.create_time_ns,
    }


def record_to_order(row: OrderRecord) -> Order:
    return Order(order_id=row.exchange_order_id, client_oid=row.client_oid, symbol=row.symbol,
                 side=Side(row.side), order_type=OrderType(row.order_type), status=OrderStatus(row.status),
                 quantity=row.quantity, price=row.price, trigger_price=row.trigger_price,
                 filled_quantity=row.filled_quantity, avg_price=row.avg_price,
                 cumulative_value=row.cumulative_value, fee=row.fee, fee_currency=row.fee_currency,
                 list_id=row.list_id, reason=row.reason, created_at=row.exchange_created_at,
                 updated_at=row.exchange_updated_at, create_time_ns=row.create_time_ns)


def group_id_of(row: OrderRecord) -> str | None:
    """The row's OCO group id (Tortoise's FK column, which the type stubs do not declare)."""
    value = getattr(row, "oco_group_id", None)
    return None if value is None else str(value)


def guess_source(client_oid: str | None) -> str:
    return "bot" if client_oid and client_oid.startswith(BOT_CLIENT_OID_PREFIX) else "manual"


@dataclass(frozen=True)
class BookOrder:
    """An order as the views of the open book need it: read without building a model per row, so
    hundreds of open orders cost one query and a few milliseconds."""
    order_id: str
    client_oid: str | None
    symbol: str
    side: str
    order_type: str
    status: str
    role: str
    quantity: Decimal
    filled_quantity: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    group_id: str | None
    create_time_ns: int
    list_id: str | None

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled_quantity


_BOOK_COLUMNS = ("exchange_order_id", "client_oid", "symbol", "side", "order_type", "status", "role", "quantity",
                 "filled_quantity", "price", "trigger_price", "oco_group_id", "create_time_ns", "list_id")


def _book_order(values: tuple[Any, ...]) -> BookOrder:
    (order_id, client_oid, symbol, side, order_type, status, role, quantity, filled, price, trigger, group_id,
     created, list_id) = values
    return BookOrder(str(order_id), client_oid, symbol, side, order_type, status, role, quantity, filled, price,
                     trigger, None if group_id is None else str(group_id), int(created or 0), list_id)


class OrderRepository:
    def __init__(self, mode: str, account: str = "main") -> None:
        self.mode = mode
        self.account = account

    def _orders(self) -> Any:
        return OrderRecord.filter(mode=self.mode, account=self.account)

    # Orders --------------------------------------------------------------------------------

    async def get(self, order_id: str) -> OrderRecord | None:
        row: OrderRecord | None = await self._orders().get_or_none(exchange_order_id=order_id)
        return row

    async def by_client_oid(self, client_oid: str) -> OrderRecord | None:
        row: OrderRecord | None = await self._orders().get_or_none(client_oid=client_oid)
        return row

    async def by_ids(self, order_ids: Iterable[str]) -> dict[str, OrderRecord]:
        """The stored rows among these exchange ids, by id (one query)."""
        ids = list(order_ids)
        if not ids:
            return {}
        rows: list[OrderRecord] = await self._orders().filter(exchange_order_id__in=ids)
        return {r.exchange_order_id: r for r in rows}

    async def open_rows(self, symbol: str | None = None) -> list[OrderRecord]:
        query = self._orders().filter(status__in=OPEN_STATUSES)
        if symbol is not None:
            query = query.filter(symbol=symbol)
        rows: list[OrderRecord] = await query
        return rows

    async def count(self) -> int:
        total: int = await self._orders().count()
        return total

    async def existing_ids(self, order_ids: Iterable[str]) -> set[str]:
        ids = list(order_ids)
        if not ids:
            return set()
        found = await self._orders().filter(exchange_order_id__in=ids).values_list("exchange_order_id", flat=True)
        return {str(i) for i in found}

    async def insert(self, order: Order, *, role: str, source: str, watched: bool,
                     group_id: str | None = None, protection_due: bool = False) -> OrderRecord:
        fields = order_fields(order)
        if fields["client_oid"] and await self._orders().filter(client_oid=fields["client_oid"]).exists():
            fields["client_oid"] = None    # a reused client_oid (the exchange's nonce default) must not block the row
        row: OrderRecord = await OrderRecord.create(
            mode=self.mode, account=self.account, exchange_order_id=order.order_id, role=role, source=source,
            watched=watched, oco_group_id=group_id, protection_due=protection_due, **fields)
        return row

    async def insert_missing(self, orders: list[Order], *, watched: Callable[[Order], bool],
                             role_of: Callable[[Order], str]) -> list[Order]:
        """Insert the orders not stored yet (one query to check, one bulk insert); returns the new ones."""
        unique: dict[str, Order] = {o.order_id: o for o in orders}
        existing = await self.existing_ids(unique)
        new = [o for oid, o in unique.items() if oid not in existing]
        if not new:
            return []
        oids = [o.client_oid for o in new if o.client_oid]
        taken: set[str] = set()
        if oids:
            taken = set(await self._orders().filter(client_oid__in=oids).values_list("client_oid", flat=True))
        rows = []
        for order in new:
            fields = order_fields(order)
            oid = fields["client_oid"]
            if oid is not None:
                if oid in taken:
                    fields["client_oid"] = None
                taken.add(oid)
            rows.append(OrderRecord(mode=self.mode, account=self.account, exchange_order_id=order.order_id,
                                    role=role_of(order), source=guess_source(order.client_oid),
                                    watched=watched(order), **fields))
        await OrderRecord.bulk_create(rows, batch_size=500)
        return new

    async def update(self, row: OrderRecord, order: Order, **extra: Any) -> None:
        fields = order_fields(order)
        fields.pop("client_oid")          # set once at insert (may have been cleared for a collision)
        for name, value in {**fields, **extra}.items():
            setattr(row, name, value)
        await row.save()

    # Legs of OCO groups ------------------------------------------------------------------

    async def link_leg(self, order_id: str, group_id: str, role: OrderRole) -> None:
        """An order already mirrored becomes a leg of a group (an OTOCO's exits, adopted)."""
        await self._orders().filter(exchange_order_id=order_id).update(oco_group_id=group_id, role=role.value)

    async def open_legs_of_closed_groups(self) -> list[OrderRecord]:
        """Legs still open on the exchange (as last mirrored) whose group is already closed: a
        sibling whose cancel failed, to be canceled again."""
        rows: list[OrderRecord] = await self._orders().filter(
            role__in=[OrderRole.STOP_LOSS.value, OrderRole.TAKE_PROFIT.value], status__in=OPEN_STATUSES,
            oco_group__state="closed").order_by("id")
        return rows

    async def ended_legs_of_active_groups(self) -> list[OrderRecord]:
        """Legs that ended (as last mirrored) while their group is still active: a reaction that a
        failure or a crash cut short. Normally none. Runs every cycle, so its cost must not grow with
        the history: the active groups first (few, through the groups' state index), then their legs
        through the oco_group_id index. A join filtered on the final statuses instead goes down the
        status index past every order that ever ended (75 ms a cycle at 100,000 stored orders)."""
        active = await OcoGroupRecord.filter(mode=self.mode, account=self.account,
                                             state="active").values_list("id", flat=True)
        if not active:
            return []
        rows: list[OrderRecord] = await self._orders().filter(
            oco_group_id__in=sorted(str(i) for i in active), role__in=LEG_ROLES,
            status__in=FINAL_STATUS_VALUES).order_by("id")
        return rows

    async def legs_of(self, group_id: str) -> list[OrderRecord]:
        rows: list[OrderRecord] = await self._orders().filter(oco_group_id=group_id).order_by("id")
        return rows

    async def due_for_protection(self) -> list[OrderRecord]:
        """Watched buys with a filled part the protection has not dealt with yet (an index read:
        only those rows, however many buys were ever stored)."""
        rows: list[OrderRecord] = await self._orders().filter(protection_due=True).order_by("id")
        return rows

    async def clear_protection_due(self, row: OrderRecord) -> None:
        """The protection dealt with the row's fill as read: unless a newer fill landed meanwhile
        (then it stays due for that one)."""
        await self._orders().filter(id=row.id, filled_quantity=row.filled_quantity).update(protection_due=False)

    async def open_legs(self) -> list[OrderRecord]:
        """Every stop-loss and take-profit still open, grouped or not (health looks for orphans)."""
        rows: list[OrderRecord] = await self._orders().filter(role__in=LEG_ROLES, status__in=OPEN_STATUSES)
        return rows

    async def legs_of_groups(self, group_ids: Iterable[str]) -> list[OrderRecord]:
        ids = list(group_ids)
        if not ids:
            return []
        rows: list[OrderRecord] = await self._orders().filter(oco_group_id__in=ids)
        return rows

    async def open_sells(self, symbol: str | None = None) -> list[OrderRecord]:
        """Open sells (of one symbol, or all): what already locks coins on the exchange."""
        query = self._orders().filter(side=Side.SELL.value, status__in=OPEN_STATUSES)
        if symbol is not None:
            query = query.filter(symbol=symbol)
        rows: list[OrderRecord] = await query
        return rows

    async def open_book(self) -> list[BookOrder]:
        """Every open order, oldest first."""
        # Sorted here, not by an ORDER BY on the time: that leads SQLite down the history's time index
        # (mode, account, create_time_ns, id), past every order ever stored, instead of the status index
        # to the few open ones (bench/dashboard.py: 70 ms against 0.1 ms at 100,000 stored orders).
        rows = await self._orders().filter(status__in=OPEN_STATUSES).values_list(*_BOOK_COLUMNS, "id")
        rows.sort(key=lambda row: (row[_BOOK_COLUMNS.index("create_time_ns")], row[-1]))
        return [_book_order(row[:-1]) for row in rows]

    async def ended_legs(self, group_states: Iterable[str], group_ids: Iterable[str] = ()) -> list[BookOrder]:
        """The legs that ended (filled, canceled...) of the groups in these states, and of these groups:
        what tells a group's story."""
        # The groups first (few), then their legs through the oco_group_id index: a join on the
        # group's state would read every stored order.
        in_states = await OcoGroupRecord.filter(mode=self.mode, account=self.account,
                                                state__in=list(group_states)).values_list("id", flat=True)
        ids = sorted({str(i) for i in in_states} | {str(i) for i in group_ids})
        rows = []
        if ids:
            rows = await self._orders().filter(oco_group_id__in=ids, status__in=FINAL_STATUS_VALUES).values_list(
                *_BOOK_COLUMNS)
        return list({row[0]: _book_order(row) for row in rows}.values())

    async def newest_unprotected_buy_times(self, assets: Iterable[str]) -> dict[str, int]:
        """Per asset, when its most recent filled buy that no placing or active group covers was
        created (ns): since when those coins are exposed. One query for all assets."""
        wanted = sorted(set(assets))
        if not wanted:
            return {}
        covered = OcoGroupRecord.filter(mode=self.mode, account=self.account, state__in=["placing", "active"],
                                        entry_exchange_order_id__isnull=False).values("entry_exchange_order_id")
        prefixes = Q(*[Q(symbol__startswith=f"{asset}_") for asset in wanted], join_type=Q.OR)
        rows = await self._orders().filter(prefixes, side=Side.BUY.value, filled_quantity__gt=Decimal(0)).exclude(
            exchange_order_id__in=Subquery(covered)).annotate(newest=Max("create_time_ns")).group_by(
            "symbol").values_list("symbol", "newest")
        newest: dict[str, int] = {}
        for symbol, created in rows:
            asset = str(symbol).split("_", 1)[0]
            newest[asset] = max(newest.get(asset, 0), int(created or 0))
        return newest

    async def last_unprotected_buys(self, assets: Iterable[str], *, look_back: int = 20) -> dict[str, OrderRecord]:
        """Per asset, its most recent filled buy (in any quote currency) that no placing or active
        protection group covers: its price is where a new stop-loss and take-profit belong, its time
        is since when the coins are exposed. Two queries per asset."""
        found: dict[str, OrderRecord] = {}
        for asset in sorted(set(assets)):
            rows: list[OrderRecord] = await self._orders().filter(
                symbol__startswith=f"{asset}_", side=Side.BUY.value, filled_quantity__gt=Decimal(0)).order_by(
                "-create_time_ns", "-id").limit(look_back)
            if not rows:
                continue
            covered = set(await OcoGroupRecord.filter(
                mode=self.mode, account=self.account, state__in=["placing", "active"],
                entry_order_id__in=[r.exchange_order_id for r in rows]).values_list(
                "entry_order_id", flat=True))
            row = next((r for r in rows if r.exchange_order_id not in covered), None)
            if row is not None:
                found[asset] = row
        return found

    # Lists for people ----------------------------------------------------------------------

    async def open_page(self, filters: OrderFilter | None = None, *, cursor: str | None = None,
                        limit: int | None = None) -> Page[OrderRecord]:
        """Open orders, newest first."""
        query = (filters or OrderFilter()).apply(self._orders().filter(status__in=OPEN_STATUSES))
        return await keyset_page(query, OPEN_ORDERS, cursor=cursor, limit=limit)

    async def executed_page(self, filters: OrderFilter | None = None, *, cursor: str | None = None,
                            limit: int | None = None) -> Page[OrderRecord]:
        """Orders that ended with something filled (fully, or partly then canceled), newest first."""
        query = (filters or OrderFilter()).apply(self._orders().filter(
            status__in=FINAL_STATUS_VALUES, filled_quantity__gt=Decimal(0)))
        return await keyset_page(query, EXECUTED_ORDERS, cursor=cursor, limit=limit)
