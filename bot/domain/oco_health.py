"""OCO health: what is wrong with the protection on the account, as plain data.

Input is a snapshot of groups and protection legs (from the database mirror of the exchange);
output lists orphan legs, incomplete groups, quantity mismatches and groups where both legs
filled. `/orders` and the daily alert render it; nothing here talks to anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from bot.domain.money import ZERO
from bot.domain.oco import GroupState
from bot.domain.orders import OrderStatus
from bot.domain.portfolio import UnprotectedPosition


@dataclass(frozen=True)
class LegView:
    order_id: str
    client_oid: str | None
    group_id: str | None
    role: str                      # "stop_loss" | "take_profit"
    symbol: str
    status: OrderStatus
    quantity: Decimal
    filled_quantity: Decimal

    @property
    def open(self) -> bool:
        return self.status.is_open

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled_quantity


@dataclass(frozen=True)
class GroupView:
    group_id: str
    symbol: str
    state: GroupState
    quantity: Decimal
    stop_loss_client_oid: str | None
    take_profit_client_oid: str | None


@dataclass(frozen=True)
class Issue:
    kind: str           # "orphan_leg" | "incomplete_group" | "quantity_mismatch" | "both_filled"
    symbol: str
    group_id: str | None
    order_ids: tuple[str, ...]
    detail: str


@dataclass(frozen=True)
class OcoHealth:
    orphan_legs: tuple[Issue, ...] = ()
    incomplete_groups: tuple[Issue, ...] = ()
    quantity_mismatches: tuple[Issue, ...] = ()
    both_filled: tuple[Issue, ...] = ()
    unprotected: tuple[UnprotectedPosition, ...] = field(default=())
    active_groups: int = 0

    @property
    def ok(self) -> bool:
        return not (self.orphan_legs or self.incomplete_groups or self.quantity_mismatches or self.both_filled)

    @property
    def issues(self) -> tuple[Issue, ...]:
        return self.orphan_legs + self.incomplete_groups + self.quantity_mismatches + self.both_filled


def assess(groups: Iterable[GroupView], legs: Iterable[LegView], *,
           held: Mapping[str, Decimal] | None = None, base_of: Mapping[str, str] | None = None,
           unprotected: tuple[UnprotectedPosition, ...] = ()) -> OcoHealth:
    """Check every group against its legs, and protection totals against holdings (`held` by asset)."""
    group_list = list(groups)
    by_id = {g.group_id: g for g in group_list}
    legs_by_group: dict[str, list[LegView]] = {}
    orphans: list[Issue] = []
    for leg in legs:
        group = by_id.get(leg.group_id or "")
        if group is None:
            if leg.open:
                orphans.append(Issue("orphan_leg", leg.symbol, leg.group_id, (leg.order_id,),
                                     f"{leg.role} order {leg.order_id} belongs to no known group"))
            continue
        legs_by_group.setdefault(group.group_id, []).append(leg)

    incomplete: list[Issue] = []
    mismatches: list[Issue] = []
    doubles: list[Issue] = []
    protected_by_symbol: dict[str, Decimal] = {}
    active = 0
    for group in group_list:
        group_legs = legs_by_group.get(group.group_id, [])
        current = [leg for leg in group_legs if leg.client_oid in (group.stop_loss_client_oid,
                                                                   group.take_profit_client_oid)]
        open_legs = [leg for leg in current if leg.open]
        filled_roles = {leg.role for leg in group_legs if leg.filled_quantity > 0 and leg.status is OrderStatus.FILLED}
        ids = tuple(leg.order_id for leg in current)
        if group.state is GroupState.BOTH_FILLED or len(filled_roles) == 2:
            doubles.append(Issue("both_filled", group.symbol, group.group_id, ids,
                                 "both the stop-loss and the take-profit filled: the position was sold twice"))
            continue
        if group.state.is_final:
            for leg in open_legs:
                orphans.append(Issue("orphan_leg", leg.symbol, group.group_id, (leg.order_id,),
                                     f"{leg.role} order {leg.order_id} is still open but its group is "
                                     f"{group.state.value}"))
            continue
        if group.state is not GroupState.ACTIVE:
            continue
        active += 1
        roles_open = {leg.role for leg in open_legs}
        if len(roles_open) == 1 and not filled_roles:
            missing = "take_profit" if "stop_loss" in roles_open else "stop_loss"
            leg = open_legs[0]
            orphans_or_incomplete = Issue("incomplete_group", group.symbol, group.group_id, (leg.order_id,),
                                          f"{missing.replace('_', '-')} leg missing; only the "
                                          f"{leg.role.replace('_', '-')} {leg.order_id} protects "
                                          f"{leg.remaining} {group.symbol}")
            incomplete.append(orphans_or_incomplete)
        elif not roles_open and not filled_roles:
            incomplete.append(Issue("incomplete_group", group.symbol, group.group_id, ids,
                                    "no leg of this active group is open on the exchange"))
        for leg in open_legs:
            if leg.remaining != group.quantity and not filled_roles:
                mismatches.append(Issue("quantity_mismatch", group.symbol, group.group_id, (leg.order_id,),
                                        f"{leg.role} {leg.order_id} covers {leg.remaining}, "
                                        f"the position is {group.quantity}"))
        if open_legs:
            protected_by_symbol[group.symbol] = (protected_by_symbol.get(group.symbol, ZERO)
                                                 + max(leg.remaining for leg in open_legs))
    if held is not None and base_of is not None:
        for symbol, protected in protected_by_symbol.items():
            asset = base_of.get(symbol)
            if asset is not None and protected > held.get(asset, ZERO):
                mismatches.append(Issue("quantity_mismatch", symbol, None, (),
                                        f"protection covers {protected} {asset} but only "
                                        f"{held.get(asset, ZERO)} {asset} is held"))
    return OcoHealth(orphan_legs=tuple(orphans), incomplete_groups=tuple(incomplete),
                     quantity_mismatches=tuple(mismatches), both_filled=tuple(doubles),
                     unprotected=unprotected, active_groups=active)
