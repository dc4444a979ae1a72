"""OCO health from the database mirror: orphan legs, incomplete groups, quantity mismatches,
groups where both legs filled, and unprotected holdings. Feeds `/orders` and the daily alert."""

from __future__ import annotations

from bot.db.models import BalanceRecord, OcoGroupRecord, OrderRecord
from bot.domain.oco import GroupState
from bot.domain.oco_health import GroupView, LegView, OcoHealth, assess
from bot.domain.orders import OrderRole, OrderStatus
from bot.services.order_repository import OPEN_STATUSES, group_id_of
from bot.services.portfolio import PortfolioService, base_asset

_LEG_ROLES = [OrderRole.STOP_LOSS.value, OrderRole.TAKE_PROFIT.value]
_WATCHED_STATES = [GroupState.PLACING.value, GroupState.ACTIVE.value, GroupState.BOTH_FILLED.value]


class OcoHealthService:
    def __init__(self, mode: str, account: str = "main") -> None:
        self.mode = mode
        self.account = account
        self.portfolio = PortfolioService(mode, account)

    async def check(self) -> OcoHealth:
        scope = {"mode": self.mode, "account": self.account}
        open_legs = await OrderRecord.filter(**scope, role__in=_LEG_ROLES, status__in=OPEN_STATUSES)
        group_ids = {g.id for g in await OcoGroupRecord.filter(**scope, state__in=_WATCHED_STATES)}
        group_ids |= {gid for gid in (group_id_of(leg) for leg in open_legs) if gid is not None}
        groups = await OcoGroupRecord.filter(id__in=list(group_ids)) if group_ids else []
        legs = await OrderRecord.filter(**scope, oco_group_id__in=list(group_ids)) if group_ids else []
        leg_rows = {row.id: row for row in [*legs, *open_legs]}
        views = [LegView(order_id=row.exchange_order_id, client_oid=row.client_oid, group_id=group_id_of(row),
                         role=row.role, symbol=row.symbol, status=OrderStatus(row.status), quantity=row.quantity,
                         filled_quantity=row.filled_quantity) for row in leg_rows.values()]
        group_views = [GroupView(group_id=g.id, symbol=g.symbol, state=GroupState(g.state), quantity=g.quantity,
                                 stop_loss_client_oid=g.stop_loss_client_oid,
                                 take_profit_client_oid=g.take_profit_client_oid) for g in groups]
        held = {b.asset: b.total for b in await BalanceRecord.filter(**scope)}
        base_of = {g.symbol: base_asset(g.symbol) for g in groups}
        return assess(group_views, views, held=held, base_of=base_of, unprotected=await self.portfolio.unprotected())
