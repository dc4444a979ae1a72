"""What /orders (and the Mini App's open orders, and the daily report) show: open orders grouped by
their OCO group, the orders outside any group, and the unprotected positions, with current prices,
unrealised P/L and each group's problems. Read from the database mirror plus one price read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bot.db.repositories import OcoGroupRecord, OcoGroupRepository, OrderRecord, OrderRepository, group_id_of
from bot.domain.oco_health import Issue
from bot.domain.orders import OrderStatus
from bot.domain.portfolio import UnprotectedPosition
from bot.services.oco_health import OcoHealthService
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
    def __init__(self, mode: str, prices: PriceBoard, health: OcoHealthService, account: str = "main") -> None:
        self.mode = mode
        self.prices = prices
        self.health = health
        self.orders = OrderRepository(mode, account)
        self.groups = OcoGroupRepository(mode, account)

    async def overview(self, *, refresh_prices: bool = False) -> OrdersOverview:
        open_rows = sorted(await self.orders.open_rows(), key=lambda r: (r.create_time_ns, r.id))
        health = await self.health.check()
        prices = await self.prices.last_prices(refresh=refresh_prices)
        issues_by_group: dict[str, list[Issue]] = {}
        for issue in health.issues:
            issues_by_group.setdefault(issue.group_id or "", []).append(issue)

        grouped: dict[str, list[OrderRecord]] = {}
        loose: list[OrderLine] = []
        for row in open_rows:
            group_id = group_id_of(row)
            if group_id is None:
                loose.append(_line(row, prices.get(row.symbol)))
            else:
                grouped.setdefault(group_id, []).append(row)
        wanted = set(grouped) | {gid for gid in issues_by_group if gid}
        # Groups with open legs, and groups with a problem (an active group whose legs are all gone
        # is one: health names it "incomplete").
        groups = {g.id: g for g in await self.groups.many(wanted)}
        lines: list[GroupLine] = []
        for group_id, group in groups.items():
            legs = [_line(row, prices.get(row.symbol)) for row in grouped.get(group_id, [])]
            lines.append(_group_line(group, legs, prices.get(group.symbol), issues_by_group.get(group_id, [])))
        # Legs of a group the mirror does not know: shown as plain orders, their problem beside them.
        for group_id, rows in grouped.items():
            if group_id not in groups:
                loose.extend(_line(row, prices.get(row.symbol)) for row in rows)
        other = [i for gid, items in issues_by_group.items() if not gid or gid not in groups for i in items]
        lines.sort(key=lambda g: (g.symbol, g.group_id))
        loose.sort(key=lambda o: (o.symbol, o.created_at is None, o.created_at or datetime.min, o.order_id))
        return OrdersOverview(mode=self.mode, groups=tuple(lines), loose=tuple(loose),
                              unprotected=await self._positions(health.unprotected), other_issues=tuple(other),
                              prices_known=bool(prices))

    async def _positions(self, unprotected: tuple[UnprotectedPosition, ...]) -> tuple[PositionLine, ...]:
        last_buys = await self.orders.last_unprotected_buys(p.asset for p in unprotected)
        out = []
        for position in unprotected:
            buy = last_buys.get(position.asset)
            since = (buy.exchange_updated_at or buy.exchange_created_at) if buy is not None else None
            out.append(PositionLine(asset=position.asset, quantity=position.quantity, price_usd=position.price,
                                    value_at_risk_usd=position.value_at_risk_usd, since=since))
        return tuple(out)


def _line(row: OrderRecord, current: Decimal | None) -> OrderLine:
    return OrderLine(order_id=row.exchange_order_id, client_oid=row.client_oid, symbol=row.symbol, side=row.side,
                     order_type=row.order_type, status=row.status, role=row.role, quantity=row.quantity,
                     filled=row.filled_quantity, price=row.price, trigger_price=row.trigger_price,
                     created_at=row.exchange_created_at, current_price=current)


def _group_line(group: OcoGroupRecord, legs: list[OrderLine], current: Decimal | None,
                issues: list[Issue]) -> GroupLine:
    open_legs = [leg for leg in legs if OrderStatus(leg.status).is_open]
    held = max((leg.remaining for leg in open_legs), default=group.quantity)
    pnl = None if current is None or not group.entry_price else (current - group.entry_price) * held
    legs.sort(key=lambda leg: (leg.role != "stop_loss", leg.order_id))
    return GroupLine(group_id=group.id, symbol=group.symbol, state=group.state,
                     native=group.native_list_id is not None, quantity=held if open_legs else group.quantity,
                     entry_price=group.entry_price, stop_loss_price=group.stop_loss_price,
                     take_profit_price=group.take_profit_price, legs=tuple(legs), current_price=current,
                     unrealised_pnl=pnl, issues=tuple(issues))
