"""Reacting to protection legs: a fill closes the group (cancelling the sibling of two linked legs),
a partial fill shrinks the sibling, two unfilled ends close it; and, every cycle, catching up on
reactions a failure cut short and on siblings that could not be cancelled at the time."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from decimal import Decimal

from bot.db.repositories import OcoGroupRecord, OcoGroupRepository, OrderRecord, OrderRepository, group_id_of
from bot.domain.events import OcoLegDone
from bot.domain.money import ZERO, plain
from bot.domain.oco import (
    Fill,
    GroupEvent,
    GroupState,
    close_round_trip,
    leg_client_oid,
    next_state,
    sibling_role,
)
from bot.domain.orders import Order, OrderRole, OrderStatus, Side
from bot.domain.protection import remaining_for_sibling
from bot.domain.reasons import Reason
from bot.exchange.errors import ExchangeError, OrderNotFound
from bot.services.events import EventBus
from bot.services.protection.links import LinkedLegs
from bot.services.protection.sender import LegSender, exchange_args, publish_failure

log = logging.getLogger(__name__)


def _fill(row: OrderRecord) -> Fill:
    return Fill(filled_quantity=row.filled_quantity, avg_price=row.avg_price, fee=row.fee,
                fee_currency=row.fee_currency, cumulative_value=row.cumulative_value)


class LegReactor:
    def __init__(self, sender: LegSender, orders: OrderRepository, groups: OcoGroupRepository, events: EventBus,
                 lock: asyncio.Lock, links: LinkedLegs | None = None) -> None:
        self.sender = sender
        self.orders = orders
        self.groups = groups
        self.events = events
        # Shared with the placer: a group is never placed and reacted to at the same time.
        self.lock = lock
        # Shared with the placer too, which adds each group it activates.
        self.links = links if links is not None else LinkedLegs()
        self._early_cancels: dict[str, asyncio.Future[None]] = {}     # sibling client_oid -> its cancel
        self._links_loaded = False

    def cancel_sibling_at_once(self, order: Order) -> asyncio.Future[None] | None:
        """A stream push: when it is the fill of a followed leg, send the sibling's cancel now, before
        the push is stored (no await here). The usual reaction (`on_leg_change`) then takes up that
        cancel's outcome instead of sending another."""
        if order.status is not OrderStatus.FILLED or not order.client_oid:
            return None
        sibling = self.links.take_sibling(order.client_oid)
        if sibling is None or sibling.client_oid in self._early_cancels:
            return None
        # Eager: the request is on its way before this returns and the push is stored.
        cancel = asyncio.eager_task_factory(asyncio.get_running_loop(),
                                            self.sender.cancel(sibling.symbol, sibling.client_oid))
        # Its outcome is read by `_cancel_sibling`; should that never run, it is not an unread error.
        cancel.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._early_cancels[sibling.client_oid] = cancel
        return cancel

    @property
    def mode(self) -> str:
        return self.orders.mode

    async def on_leg_change(self, row: OrderRecord, order: Order, previous_filled: Decimal) -> None:
        """A protection leg changed on the exchange: close the group, or shrink the sibling."""
        group_id = group_id_of(row)
        if group_id is None:
            return
        async with self.events.held_while(self.lock):
            group = await self.groups.get(group_id)
            if group is None:
                return
            role = OrderRole(row.role)
            if order.status is OrderStatus.FILLED:
                await self._leg_filled(group, row, role)
            elif order.filled_quantity > previous_filled and order.status.is_open:
                await self._leg_partly_filled(group, order, role)
            elif order.status.is_final and order.filled_quantity == 0:
                await self._leg_ended_unfilled(group)

    @staticmethod
    def _sibling_oid(group: OcoGroupRecord, role: OrderRole) -> str | None:
        return (group.take_profit_client_oid if sibling_role(role) is OrderRole.TAKE_PROFIT
                else group.stop_loss_client_oid)

    async def _leg_filled(self, group: OcoGroupRecord, row: OrderRecord, role: OrderRole) -> None:
        state = GroupState(group.state)
        if state is GroupState.CLOSED and group.exit_leg not in (None, role.value):
            group.state = next_state(state, GroupEvent.SIBLING_FILLED).value
            await self.groups.save(group)
            log.error("both legs of OCO group %s filled on %s", group.id, group.symbol)
            return
        if state is GroupState.CLOSED or state.is_final:
            return
        sibling_existed, sibling_problem = await self._cancel_sibling(group, role)
        legs = await self.orders.legs_of(group.id)
        instrument = await self.sender.instrument(group.symbol)
        entry = await self.orders.get(group.entry_order_id or "")
        trip = close_round_trip(legs=[_fill(leg) for leg in legs], closing_leg=_fill(row),
                                entry=_fill(entry) if entry is not None else None, entry_price=group.entry_price,
                                base=instrument.base, quote=instrument.quote)
        exit_price = trip.exit_price
        self.links.forget(group.id)
        group.state = next_state(state, GroupEvent.LEG_FILLED).value
        group.exit_leg = role.value
        group.exit_price = instrument.round_price(exit_price, Side.SELL) if exit_price else exit_price
        group.pnl = trip.pnl
        group.closed_at = datetime.now(UTC)
        await self.groups.save(group)
        # One message tells the whole end: the fill, the other leg (cancelled, or still open and
        # why), the result; the exit price as the exchange's tick shows it.
        await self.events.publish(OcoLegDone(
            group_id=group.id, symbol=group.symbol, leg=role.value, quantity=trip.quantity,
            entry_price=group.entry_price, exit_price=group.exit_price or exit_price, pnl=trip.pnl,
            sibling_canceled=sibling_problem is None, sibling_problem=sibling_problem,
            sibling_placed=sibling_existed, mode=self.mode))

    async def _cancel_sibling(self, group: OcoGroupRecord, role: OrderRole) -> tuple[bool, Reason | None]:
        """Cancel the other leg (the exchange does it for a native OCO). Whether it ever existed
        (a refused take-profit did not), and why it is still open when it is (the sync retries)."""
        sibling_oid = self._sibling_oid(group, role)
        if sibling_oid is None:
            return False, None
        if group.native_list_id:
            sibling = await self.sender.lookup(sibling_oid)
            if sibling is None or sibling.status.is_final:
                return sibling is not None or await self._known(sibling_oid), None
        early = self._early_cancels.pop(sibling_oid, None)
        try:
            # First the cancel, then anything else: the stored rows can wait, the open leg cannot.
            await (early if early is not None else self.sender.cancel(group.symbol, sibling_oid))
            return True, None
        except OrderNotFound:
            # Already gone: filled, canceled by the exchange's OCO or by hand; or never placed.
            return await self._known(sibling_oid), None
        except ExchangeError as exc:
            log.error("could not cancel the sibling %s of group %s: %s", sibling_oid, group.id, exc)
            return True, Reason.of("sibling_not_canceled", order=sibling_oid, **exchange_args(exc))

    async def _known(self, client_oid: str) -> bool:
        return await self.orders.by_client_oid(client_oid) is not None

    async def _leg_partly_filled(self, group: OcoGroupRecord, order: Order, role: OrderRole) -> None:
        if group.native_list_id or GroupState(group.state) is not GroupState.ACTIVE:
            return       # a native OCO shrinks its other leg itself
        instrument = await self.sender.instrument(group.symbol)
        left = remaining_for_sibling(group.quantity, order.filled_quantity, instrument)
        other = sibling_role(role)
        old_oid = self._sibling_oid(group, role)
        sibling = await self.sender.lookup(old_oid)
        if sibling is None or sibling.status.is_final or sibling.remaining_quantity <= left:
            return
        generation = sum(1 for leg in await self.orders.legs_of(group.id) if leg.role == other.value)
        new_oid = leg_client_oid(group.id, other, max(1, generation))
        try:
            await self.sender.cancel(group.symbol, old_oid)
        except OrderNotFound:
            return
        if other is OrderRole.STOP_LOSS:
            group.stop_loss_client_oid = new_oid
        else:
            group.take_profit_client_oid = new_oid
        await self.groups.save(group)
        self.links.track(group)                   # the new sibling from now on
        if left <= 0:
            return
        try:
            if other is OrderRole.STOP_LOSS:
                await self.sender.send_stop(group, new_oid, left)
            else:
                await self.sender.send_take_profit(group, new_oid, left)
        except ExchangeError as exc:
            key = "stop_loss_not_reduced" if other is OrderRole.STOP_LOSS else "take_profit_not_reduced"
            await publish_failure(self.events, self.mode, group.id, group.symbol, left, ZERO,
                                  Reason.of(key, quantity=plain(left), **exchange_args(exc)))

    async def _leg_ended_unfilled(self, group: OcoGroupRecord) -> None:
        if GroupState(group.state) not in (GroupState.ACTIVE, GroupState.PLACING):
            return
        stop = await self.orders.by_client_oid(group.stop_loss_client_oid or "")
        take = await self.orders.by_client_oid(group.take_profit_client_oid or "")
        if all(leg is not None and OrderStatus(leg.status).is_final and leg.filled_quantity == 0
               for leg in (stop, take)):
            group.state = next_state(GroupState(group.state), GroupEvent.BOTH_CANCELED).value
            await self.groups.save(group)
            self.links.forget(group.id)

    async def claim_for_replacement(self, group_id: str, by: str) -> bool:
        """The group ends as canceled, replaced by action `by`: one action wins it (see the repository);
        it is no longer followed. Under the lock, so no reaction to its legs runs meanwhile."""
        async with self.events.held_while(self.lock):
            won = await self.groups.claim_for_replacement(group_id, by)
            if won:
                self.links.forget(group_id)
            return won

    async def catch_up_active_groups(self) -> None:
        """A leg's end already mirrored, but its group not moved on (the reaction was cut off by a
        failure or a crash): act on it now. The reactions are idempotent, so doing this every cycle
        never acts twice. Only groups with an ended leg are read, not every active group."""
        if not self._links_loaded:
            # After a restart, once: from then on the placer and the reactions keep `links` current.
            for group in await self.groups.in_states([GroupState.ACTIVE.value]):
                self.links.track(group)
            self._links_loaded = True
        ended = await self.orders.ended_legs_of_active_groups()
        for group in await self.groups.many(dict.fromkeys(gid for leg in ended if (gid := group_id_of(leg)))):
            if GroupState(group.state) is not GroupState.ACTIVE:
                continue
            current = {group.stop_loss_client_oid: OrderRole.STOP_LOSS,
                       group.take_profit_client_oid: OrderRole.TAKE_PROFIT}
            legs = [leg for leg in await self.orders.legs_of(group.id) if leg.client_oid in current]
            filled = next((leg for leg in legs if leg.status == OrderStatus.FILLED.value), None)
            if filled is None and not (len(legs) == 2 and all(OrderStatus(leg.status).is_final for leg in legs)):
                continue
            async with self.events.held_while(self.lock):
                fresh = await self.groups.get(group.id)
                if fresh is None or GroupState(fresh.state) is not GroupState.ACTIVE:
                    continue
                if filled is not None:
                    await self._leg_filled(fresh, filled, current[filled.client_oid])
                else:
                    await self._leg_ended_unfilled(fresh)

    async def cancel_leftover_siblings(self) -> None:
        """A closed group's other leg that could not be canceled at the time (the user was told):
        a live stop-loss with nothing left to protect would sell coins that are no longer its own."""
        for leg in await self.orders.open_legs_of_closed_groups():
            try:
                await self.sender.cancel(leg.symbol, leg.client_oid)
                log.info("canceled leftover leg %s of closed group %s", leg.client_oid, group_id_of(leg))
            except OrderNotFound:
                pass                # already gone; the next sync mirrors its final state
            except ExchangeError as exc:
                log.warning("leftover leg %s still not canceled: %s; trying again next cycle",
                            leg.client_oid, exc.reason)
