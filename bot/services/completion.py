"""Completing a protection that stands as a stop-loss only (its take-profit refused by the exchange,
e.g. because the untriggered stop reserves the coins): the lone stop-loss is canceled, then the full
protection (one native OCO where the exchange takes it, else the two linked legs) is placed at the
same prices by the protection service, as the confirmed action's group.

Order of steps (each safe to run again after a crash, a second press or another device):
cancel the lone stop-loss -> see it canceled with nothing sold (else stop: a sale is the group's
own story, told by its reaction) -> claim the old group for this action (one conditional write: of
two previews confirmed, one wins; the other placed nothing) -> plan against the free balance (never
more than is held) -> place as group `action_id` (client_oids derived from it, looked up before
anything is sent again). Once the new group exists, a run again goes straight to placing it, which
is idempotent. The group stays active until its stop-loss is seen canceled, so a run cut off before
that leaves nothing half-done: either the stop stands, or /orders shows the coins unprotected.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from decimal import Decimal

from bot.db.repositories import OcoGroupRecord, OcoGroupRepository, OrderRepository
from bot.domain.actions import ActionPreview, ActionRefused, ActionResult, CompleteDetails, Outcome
from bot.domain.money import ZERO, plain
from bot.domain.oco import GroupState, leg_client_oid
from bot.domain.orders import Order, OrderRole, OrderStatus
from bot.domain.protection import ProtectionPlan
from bot.domain.reasons import Reason
from bot.exchange.base import Exchange
from bot.exchange.errors import ExchangeError, ExchangeUnavailable, OrderNotFound
from bot.services.protection import LegSender, ProtectionService

log = logging.getLogger(__name__)

Reflect = Callable[[Iterable[str]], Awaitable[None]]
HUNDRED = Decimal(100)


class ProtectionCompletion:
    def __init__(self, exchange: Exchange, protection: ProtectionService, orders: OrderRepository,
                 groups: OcoGroupRepository, reflect: Reflect, *, cancel_checks: int = 5,
                 cancel_check_delay: float = 0.2) -> None:
        self.exchange = exchange
        self.legs = LegSender(exchange)        # looks orders up by client_oid as the protection does
        self.protection = protection
        self.orders = orders
        self.groups = groups
        # Puts what the exchange now says about these client_oids into the mirror (/orders, reports).
        self.reflect = reflect
        # crypto.com cancels asynchronously: the order may still read as open just after the answer.
        self.cancel_checks = cancel_checks
        self.cancel_check_delay = cancel_check_delay

    # Preview ----------------------------------------------------------------------------------

    async def lone_stop(self, asset: str, group_id: str | None) -> CompleteDetails | None:
        """The active group of `asset` (the one named, else any) that stands as a stop-loss only,
        checked on the exchange; None when there is none. Refused when the market has left the
        stop..target range (the same prices could not be placed)."""
        for group in await self._candidates(asset, group_id):
            stop = await self.legs.lookup(group.stop_loss_client_oid)
            take = await self.legs.lookup(group.take_profit_client_oid)
            if stop is None or not stop.status.is_open or stop.filled_quantity > 0:
                continue
            if take is not None and (take.status.is_open or take.filled_quantity > 0):
                continue            # its take-profit exists: nothing to complete
            base, _, quote = group.symbol.partition("_")
            market = (await self.exchange.ticker(group.symbol)).last
            stop_price = stop.trigger_price or group.stop_loss_price
            take_price = group.take_profit_price
            if market is None or take_price <= 0 or not stop_price < market < take_price:
                raise ActionRefused("price_outside", market=plain(market or ZERO), stop=plain(stop_price),
                                    take=plain(take_price))
            return CompleteDetails(
                symbol=group.symbol, base=base, quote=quote or "USD", group_id=group.id,
                stop_loss_client_oid=stop.client_oid or "", stop_loss_order_id=stop.order_id,
                quantity=stop.remaining_quantity, stop_loss=stop_price, take_profit=take_price,
                entry_price=group.entry_price, market_price=market,
                native_oco=self.protection.native_oco_expected)
        return None

    async def _candidates(self, asset: str, group_id: str | None) -> list[OcoGroupRecord]:
        """Active groups of linked legs (a native list never stands half) whose take-profit the mirror
        does not show open; the exchange has the last word (`lone_stop`)."""
        if group_id:
            named = await self.groups.get(group_id)
            groups = [named] if named is not None and (named.mode, named.account) == (
                self.groups.mode, self.groups.account) else []
        else:
            groups = await self.groups.in_states([GroupState.ACTIVE.value])
        found = []
        for group in groups:
            if GroupState(group.state) is not GroupState.ACTIVE or group.native_list_id:
                continue
            if group.symbol.partition("_")[0] != asset or not group.stop_loss_client_oid:
                continue
            take = await self.orders.by_client_oid(group.take_profit_client_oid or "")
            if take is not None and OrderStatus(take.status).is_open:
                continue
            found.append(group)
        return found

    # Confirmation -----------------------------------------------------------------------------

    async def run(self, action: ActionPreview, details: CompleteDetails) -> ActionResult:
        old = await self.groups.get(details.group_id)
        entry_order_id = old.entry_order_id if old is not None else None
        placed = await self.groups.get(action.action_id)
        if placed is None:
            stopped = await self._cancel_lone_stop(action, details, old)
            if stopped is not None:
                return stopped
            if not await self.protection.claim_for_replacement(details.group_id, action.action_id):
                # Another preview's confirmation replaced it (this one's cancel found the stop gone).
                return ActionResult(Outcome.FAILED, action, reason_key="already_complete")
            plan = await self._plan(details)
            if not plan.places_anything:
                why = plan.shortfall if plan.shortfall is not None else Reason.of("nothing_to_protect")
                return self._not_placed(action, details, why.key, why.args, group_id=None)
        else:
            # A run cut off after the group was saved: the placer looks its legs up before sending.
            plan = ProtectionPlan(symbol=details.symbol, wanted_quantity=placed.quantity, quantity=placed.quantity,
                                  entry_price=placed.entry_price, stop_loss_price=placed.stop_loss_price,
                                  take_profit_price=placed.take_profit_price)
        result = await self.protection.protect_holding(action.action_id, plan, entry_order_id=entry_order_id)
        await self.reflect(leg_client_oid(action.action_id, role) for role in (OrderRole.STOP_LOSS,
                                                                              OrderRole.TAKE_PROFIT))
        quantity = (("quantity", plain(result.quantity)),)
        if result.state is GroupState.PLACING:
            return ActionResult(Outcome.UNCONFIRMED, action, reason_key="exchange_unavailable",
                                reason_args=(("exchange", result.reason or ""),), group_id=result.group_id)
        if result.state is GroupState.FAILED:
            if result.reason_key:
                return self._not_placed(action, details, result.reason_key, result.reason_args,
                                        group_id=result.group_id)
            return self._not_placed(action, details, "as_text", (("text", result.reason or ""),),
                                    group_id=result.group_id)
        if result.reason is not None and result.native is False and result.state is GroupState.ACTIVE:
            # The linked legs again, and again the take-profit refused: the new stop-loss stands.
            return ActionResult(Outcome.FAILED, action, reason_key="take_profit_refused_again",
                                reason_args=(("stop", plain(plan.stop_loss_price)), ("exchange", result.reason)),
                                group_id=result.group_id)
        return ActionResult(Outcome.DONE, action, reason_args=quantity, native_oco=result.native,
                            group_id=result.group_id)

    async def _cancel_lone_stop(self, action: ActionPreview, details: CompleteDetails,
                                old: OcoGroupRecord | None) -> ActionResult | None:
        """Cancel the lone stop-loss and see it gone with nothing sold; a result when the run must
        stop here (nothing placed), None when the coins are free to protect anew."""
        stop = await self.legs.lookup(details.stop_loss_client_oid)
        if stop is None:
            # Unknown to the exchange (not even in its history): nothing is assumed, nothing placed.
            return ActionResult(Outcome.FAILED, action, reason_key="group_not_open")
        if stop.status.is_open and stop.filled_quantity == 0:
            take = await self.legs.lookup(old.take_profit_client_oid) if old is not None else None
            if take is not None and take.status.is_open:
                return ActionResult(Outcome.FAILED, action, reason_key="already_complete")
            try:
                await self.exchange.cancel_order(symbol=details.symbol, client_oid=details.stop_loss_client_oid)
            except OrderNotFound:
                pass                    # ended meanwhile: what it ended as is read below
            except ExchangeUnavailable as exc:
                await self.reflect([details.stop_loss_client_oid])
                return ActionResult(Outcome.FAILED, action, reason_key="completion_cancel_unknown",
                                    reason_args=(("exchange", exc.reason), ("asset", details.base)))
            except ExchangeError as exc:
                return ActionResult(Outcome.FAILED, action, reason_key="cancel_refused",
                                    reason_args=(("exchange", exc.reason), ("code", exc.code or "")))
            stop = await self._ended(details.stop_loss_client_oid)
        await self.reflect([details.stop_loss_client_oid])
        if stop is not None and stop.filled_quantity > 0:
            # It sold (part of) the coins (before the cancel, or before this run): the group's own
            # reaction reports that sale; nothing is placed for coins that may be gone.
            return ActionResult(Outcome.FAILED, action, reason_key="stop_loss_sold",
                                reason_args=(("quantity", plain(stop.filled_quantity)), ("asset", details.base)))
        if stop is not None and stop.status.is_open:
            return ActionResult(Outcome.FAILED, action, reason_key="stop_loss_still_open",
                                reason_args=(("asset", details.base),))
        log.info("lone stop-loss %s of group %s canceled; placing its full protection as %s",
                 details.stop_loss_client_oid, details.group_id, action.action_id)
        return None

    async def _ended(self, client_oid: str) -> Order | None:
        stop = await self.legs.lookup(client_oid)
        for _ in range(self.cancel_checks):
            if stop is None or not stop.status.is_open:
                break
            await asyncio.sleep(self.cancel_check_delay)
            stop = await self.legs.lookup(client_oid)
        return stop

    async def _plan(self, details: CompleteDetails) -> ProtectionPlan:
        """What can be placed now: the protection service's planner against the free balance (the
        coins the stop-loss reserved are free again), at the previewed prices."""
        reference = details.entry_price if details.entry_price > 0 else details.market_price
        plan = await self.protection.plan_holding(
            details.symbol, details.quantity, reference,
            stop_loss_percent=(1 - details.stop_loss / reference) * HUNDRED,
            take_profit_percent=(details.take_profit / reference - 1) * HUNDRED)
        return replace(plan, entry_price=reference, stop_loss_price=details.stop_loss,
                       take_profit_price=details.take_profit)

    @staticmethod
    def _not_placed(action: ActionPreview, details: CompleteDetails, why_key: str,
                    why_args: tuple[tuple[str, str], ...], *, group_id: str | None) -> ActionResult:
        """The stop-loss is canceled and nothing replaced it: the coins are unprotected. The reason
        rides as its own key and values (`why_key`), worded in each reader's language."""
        return ActionResult(Outcome.FAILED, action, reason_key="completion_not_placed",
                            reason_args=(*why_args, ("why_key", why_key), ("unprotected", plain(details.quantity)),
                                         ("coin", details.base)), group_id=group_id)

