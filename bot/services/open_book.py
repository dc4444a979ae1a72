"""The open book: every open order, the OCO groups they (or the watch) concern, those groups' ended
legs, the balances and the last valuation's prices, read once in a handful of light queries. OCO
health, the unprotected positions and /orders are all computed from one such read."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.db.repositories import (
    BalanceRepository,
    BookGroup,
    BookOrder,
    OcoGroupRepository,
    OrderRepository,
    PortfolioRepository,
)
from bot.domain.money import ZERO
from bot.domain.oco import GroupState
from bot.domain.oco_health import GroupView, LegView, OcoHealth, assess
from bot.domain.orders import OrderRole, OrderStatus
from bot.domain.portfolio import UnprotectedPosition, unprotected_positions
from bot.domain.protection import OpenSell, covered_quantity

LEG_ROLES = frozenset({OrderRole.STOP_LOSS.value, OrderRole.TAKE_PROFIT.value})
WATCHED_STATES = (GroupState.PLACING.value, GroupState.ACTIVE.value, GroupState.BOTH_FILLED.value)


def base_asset(symbol: str) -> str:
    return symbol.split("_", 1)[0]


@dataclass(frozen=True)
class OpenBook:
    orders: tuple[BookOrder, ...]             # every open order, oldest first
    groups: dict[str, BookGroup]              # watched groups, and every group an open order belongs to
    ended_legs: tuple[BookOrder, ...]         # those groups' legs that ended (a fill tells a group's story)
    balances: dict[str, Decimal]              # asset -> total held
    usd_prices: dict[str, Decimal | None]     # "<ASSET>_USD" -> the last valuation's price


class OpenBookReader:
    def __init__(self, mode: str, account: str = "main") -> None:
        self.orders = OrderRepository(mode, account)
        self.groups = OcoGroupRepository(mode, account)
        self.balances = BalanceRepository(mode, account)
        self.snapshots = PortfolioRepository(mode, account)

    async def read(self, *, with_groups: bool = True) -> OpenBook:
        orders = await self.orders.open_book()
        groups: dict[str, BookGroup] = {}
        ended: list[BookOrder] = []
        if with_groups:
            referenced = {o.group_id for o in orders if o.group_id is not None}
            groups = {g.group_id: g for g in await self.groups.book_groups(referenced, WATCHED_STATES)}
            others = [gid for gid, g in groups.items() if g.state not in WATCHED_STATES]
            ended = await self.orders.ended_legs(WATCHED_STATES, others)
        latest = await self.snapshots.latest()
        prices: dict[str, Decimal | None] = {}
        for position in (latest.positions if latest is not None else []):
            if position.get("price") is not None:
                prices[f"{position['asset']}_USD"] = Decimal(str(position["price"]))
        return OpenBook(tuple(orders), groups, tuple(ended), await self.balances.totals(), prices)


def unprotected_of(book: OpenBook) -> tuple[UnprotectedPosition, ...]:
    """Holdings minus what open sells cover (a group's two legs lock its coins once), valued at the
    last valuation's prices."""
    sells: dict[str, list[OpenSell]] = {}
    for order in book.orders:
        if order.side == "SELL":
            sells.setdefault(base_asset(order.symbol), []).append(
                OpenSell(order.order_id, order.remaining, order.group_id or order.list_id))
    covered = {asset: covered_quantity(items) for asset, items in sells.items()}
    holdings = {asset: total for asset, total in book.balances.items() if total > ZERO}
    return unprotected_positions(holdings, covered, book.usd_prices)


def health_of(book: OpenBook) -> OcoHealth:
    """Orphan legs, incomplete groups, quantity mismatches, groups sold twice, and what is unprotected."""
    legs = {o.order_id: o for o in book.ended_legs}
    legs.update({o.order_id: o for o in book.orders if o.role in LEG_ROLES or o.group_id in book.groups})
    views = [LegView(order_id=o.order_id, client_oid=o.client_oid, group_id=o.group_id, role=o.role,
                     symbol=o.symbol, status=OrderStatus(o.status), quantity=o.quantity,
                     filled_quantity=o.filled_quantity) for o in legs.values()]
    groups = [GroupView(group_id=g.group_id, symbol=g.symbol, state=GroupState(g.state), quantity=g.quantity,
                        stop_loss_client_oid=g.stop_loss_client_oid, take_profit_client_oid=g.take_profit_client_oid)
              for g in book.groups.values()]
    base_of = {g.symbol: base_asset(g.symbol) for g in book.groups.values()}
    return assess(groups, views, held=book.balances, base_of=base_of, unprotected=unprotected_of(book))
