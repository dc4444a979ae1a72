"""OCO health from the database mirror: orphan legs, incomplete groups, quantity mismatches,
groups where both legs filled, and unprotected holdings. Feeds `/orders` and the daily alert."""

from __future__ import annotations

from bot.db.repositories import BalanceRepository, OcoGroupRepository, OrderRepository, group_id_of
from bot.domain.oco import GroupState
from bot.domain.oco_health import GroupView, LegView, OcoHealth, assess
from bot.domain.orders import OrderStatus
from bot.services.portfolio import PortfolioService, base_asset

_WATCHED_STATES = [GroupState.PLACING.value, GroupState.ACTIVE.value, GroupState.BOTH_FILLED.value]


class OcoHealthService:
    def __init__(self, mode: str, account: str = "main") -> None:
        self.mode = mode
        self.account = account
        self.portfolio = PortfolioService(mode, account)
        self.orders = OrderRepository(mode, account)
        self.groups = OcoGroupRepository(mode, account)
        self.balances = BalanceRepository(mode, account)

    async def check(self) -> OcoHealth:
        open_legs = await self.orders.open_legs()
        group_ids = {g.id for g in await self.groups.in_states(_WATCHED_STATES)}
        group_ids |= {gid for gid in (group_id_of(leg) for leg in open_legs) if gid is not None}
        groups = await self.groups.many(group_ids)
        legs = await self.orders.legs_of_groups(group_ids)
        leg_rows = {row.id: row for row in [*legs, *open_legs]}
        views = [LegView(order_id=row.exchange_order_id, client_oid=row.client_oid, group_id=group_id_of(row),
                         role=row.role, symbol=row.symbol, status=OrderStatus(row.status), quantity=row.quantity,
                         filled_quantity=row.filled_quantity) for row in leg_rows.values()]
        group_views = [GroupView(group_id=g.id, symbol=g.symbol, state=GroupState(g.state), quantity=g.quantity,
                                 stop_loss_client_oid=g.stop_loss_client_oid,
                                 take_profit_client_oid=g.take_profit_client_oid) for g in groups]
        held = await self.balances.totals()
        base_of = {g.symbol: base_asset(g.symbol) for g in groups}
        return assess(group_views, views, held=held, base_of=base_of, unprotected=await self.portfolio.unprotected())
