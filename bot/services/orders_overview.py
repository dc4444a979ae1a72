"""What /orders (and the Mini App's open orders, and the daily report) show: open orders grouped by
their OCO group, the orders outside any group, and the unprotected positions, with current prices,
unrealised P/L and each group's problems. Read from the database mirror plus one price read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from bot.db.repositories import BookGroup, BookOrder, OrderRepository
from bot.domain.oco_health import Issue
from bot.domain.orders import OrderStatus
from bot.domain.portfolio import UnprotectedPosition
from bot.services.open_book import OpenBookReader, health_of
from bot.services.prices import PriceBoard


@dataclass(frozen=True)
class OrderLine:
    order_id: str
    client_oid: str | None
    symbol: str
    side: str
    order_type: str
    status: str
    role: str
    quantity: Decimal
    filled: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    created_at: datetime | None
    current_price: Decimal | None = None

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled


@dataclass(frozen=True)
class GroupLine:
    group_id: str
    symbol: str
    state: str
    native: bool
    quantity: Decimal
    entry_price: Decimal
    stop_loss_price: Decimal
    take_profit_price: Decimal
    legs: tuple[OrderLine, ...]
    current_price: Decimal | None
    unrealised_pnl: Decimal | None        # in the quote currency, before fees
    issues: tuple[Issue, ...]


@dataclass(frozen=True)
class PositionLine:
    asset: str
    quantity: Decimal
    price_usd: Decimal | None
    value_at_risk_usd: Decimal | None
    since: datetime | None                # the last buy of the asset, when there is one on record


@dataclass(frozen=True)
class OrdersOverview:
    mode: str
    groups: tuple[GroupLine, ...]
    loose: tuple[OrderLine, ...]
    unprotected: tuple[PositionLine, ...]
    other_issues: tuple[Issue, ...]       # problems tied to no group shown here (orphan legs, totals)
    prices_known: bool

    @property
    def open_orders(self) -> int:
        return sum(len([leg for leg in g.legs if OrderStatus(leg.status).is_open]) for g in self.groups) + \
            len(self.loose)

    @property
    def issues(self) -> int:
        return sum(len(g.issues) for g in self.groups) + len(self.other_issues)


class OrdersOverviewService:
    def __init__(self, mode: str, prices: PriceBoard, account: str = "main") -> None:
        self.mode = mode
        self.prices = prices
        self.book = OpenBookReader(mode, account)
        self.orders = OrderRepository(mode, account)

    async def overview(self, *, refresh_prices: bool = False) -> OrdersOverview:
        book = await self.book.read()
        health = health_of(book)
        prices = await self.prices.last_prices(refresh=refresh_prices)
        issues_by_group: dict[str, list[Issue]] = {}
        for issue in health.issues:
            issues_by_group.setdefault(issue.group_id or "", []).append(issue)
        grouped: dict[str, list[OrderLine]] = {}
        loose: list[OrderLine] = []
        for order in book.orders:
            line = _line(order, prices.get(order.symbol))
            if order.group_id is not None and order.group_id in book.groups:
                grouped.setdefault(order.group_id, []).append(line)
            else:
                loose.append(line)      # outside any group, or a leg of a group the mirror does not know
        # Groups with open legs, and groups with a problem (an active group whose legs are all gone is
        # one: health names it "incomplete").
        shown = [book.groups[gid] for gid in sorted(set(grouped) | set(issues_by_group)) if gid in book.groups]
        lines = [_group_line(g, grouped.get(g.group_id, []), prices.get(g.symbol), issues_by_group.get(g.group_id, []))
                 for g in shown]
        other = [i for gid, items in issues_by_group.items() if gid not in book.groups for i in items]
        lines.sort(key=lambda g: (g.symbol, g.group_id))
        loose.sort(key=lambda o: (o.symbol, o.created_at is None, o.created_at or _EPOCH, o.order_id))
        return OrdersOverview(mode=self.mode, groups=tuple(lines), loose=tuple(loose),
                              unprotected=await self._positions(health.unprotected), other_issues=tuple(other),
                              prices_known=bool(prices))

    async def _positions(self, unprotected: tuple[UnprotectedPosition, ...]) -> tuple[PositionLine, ...]:
        since = await self.orders.newest_unprotected_buy_times(p.asset for p in unprotected)
        return tuple(PositionLine(asset=p.asset, quantity=p.quantity, price_usd=p.price,
                                  value_at_risk_usd=p.value_at_risk_usd,
                                  since=_from_ns(since[p.asset]) if since.get(p.asset) else None)
                     for p in unprotected)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _from_ns(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1e9, UTC)


def _line(order: BookOrder, current: Decimal | None) -> OrderLine:
    return OrderLine(order_id=order.order_id, client_oid=order.client_oid, symbol=order.symbol, side=order.side,
                     order_type=order.order_type, status=order.status, role=order.role, quantity=order.quantity,
                     filled=order.filled_quantity, price=order.price, trigger_price=order.trigger_price,
                     created_at=_from_ns(order.create_time_ns) if order.create_time_ns else None,
                     current_price=current)


def _group_line(group: BookGroup, legs: list[OrderLine], current: Decimal | None,
                issues: list[Issue]) -> GroupLine:
    open_legs = [leg for leg in legs if OrderStatus(leg.status).is_open]
    held = max((leg.remaining for leg in open_legs), default=group.quantity)
    pnl = None if current is None or not group.entry_price else (current - group.entry_price) * held
    legs.sort(key=lambda leg: (leg.role != "stop_loss", leg.order_id))
    return GroupLine(group_id=group.group_id, symbol=group.symbol, state=group.state,
                     native=group.native_list_id is not None, quantity=held, entry_price=group.entry_price,
                     stop_loss_price=group.stop_loss_price, take_profit_price=group.take_profit_price,
                     legs=tuple(legs), current_price=current, unrealised_pnl=pnl, issues=tuple(issues))
