"""Protection of filled buys: a placer sends the stop-loss and take-profit of each filled buy; a
leg reactor follows those legs (cancelling the sibling when one fills). They share a leg sender,
a lock and the repositories; `ProtectionService` is the one door the sync and the app use.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from bot.db.repositories import (
    OcoGroupRepository,
    OrderRecord,
    OrderRepository,
    WatchlistRepository,
)
from bot.domain.orders import Order
from bot.domain.protection import ProtectionPlan
from bot.exchange.base import Exchange
from bot.services.events import EventBus
from bot.services.protection.legs import LegReactor
from bot.services.protection.links import LinkedLegs
from bot.services.protection.placer import PROTECTION_STEPS, ProtectionPlacer, ProtectionResult, StepHook
from bot.services.protection.sender import LegSender

__all__ = ["PROTECTION_STEPS", "LegReactor", "LegSender", "ProtectionPlacer", "ProtectionResult",
           "ProtectionService", "StepHook"]


class ProtectionService:
    def __init__(self, exchange: Exchange, repository: OrderRepository, events: EventBus, *,
                 prefer_native_oco: bool = True, step_hook: StepHook | None = None,
                 groups: OcoGroupRepository | None = None, watchlist: WatchlistRepository | None = None) -> None:
        groups = groups or OcoGroupRepository(repository.mode, repository.account)
        sender = LegSender(exchange)
        lock = asyncio.Lock()
        links = LinkedLegs()
        self.placer = ProtectionPlacer(sender, repository, groups, watchlist or WatchlistRepository(), events, lock,
                                       prefer_native_oco=prefer_native_oco, step_hook=step_hook, links=links)
        self.legs = LegReactor(sender, repository, groups, events, lock, links)

    async def protect(self, entry: OrderRecord) -> ProtectionResult | None:
        """Protect the part of a watched buy filled since its last tranche (None: nothing to do now);
        idempotent."""
        return await self.placer.protect(entry)

    @property
    def native_oco_expected(self) -> bool:
        """Whether the next protection will be one native OCO (else two legs the bot links)."""
        return self.placer.native_oco_expected

    async def plan_holding(self, symbol: str, quantity: Decimal, reference_price: Decimal, *,
                           stop_loss_percent: Decimal, take_profit_percent: Decimal) -> ProtectionPlan:
        """What protecting coins already held would place now (a Protect action's preview)."""
        return await self.placer.plan_holding(symbol, quantity, reference_price, stop_loss_percent=stop_loss_percent,
                                              take_profit_percent=take_profit_percent)

    async def protect_holding(self, group_id: str, plan: ProtectionPlan, *,
                              entry_order_id: str | None = None) -> ProtectionResult:
        """Place a confirmed plan for coins already held as group `group_id`; idempotent."""
        return await self.placer.protect_holding(group_id, plan, entry_order_id=entry_order_id)

    async def claim_for_replacement(self, group_id: str, by: str) -> bool:
        """A group whose legs were canceled (unfilled) to be replaced by action `by`'s protection ends
        as canceled: True for the one action that may replace it (again after a crash), False when
        another did or it ended otherwise."""
        return await self.legs.claim_for_replacement(group_id, by)

    def cancel_sibling_at_once(self, order: Order) -> asyncio.Future[None] | None:
        """An order stream push, before it is stored: a followed leg's fill cancels its sibling now
        (the cancel's future, or None when the push is no such fill)."""
        return self.legs.cancel_sibling_at_once(order)

    async def on_leg_change(self, row: OrderRecord, order: Order, previous_filled: Decimal) -> None:
        """A protection leg changed on the exchange: close the group, or shrink the sibling."""
        await self.legs.on_leg_change(row, order, previous_filled)

    async def resume_pending(self) -> list[ProtectionResult]:
        """Every cycle: finish what a crash or a failure left undone (placements, reactions, cancels)."""
        results = await self.placer.resume_pending()
        await self.legs.catch_up_active_groups()
        await self.legs.cancel_leftover_siblings()
        return results
