"""Reacting to protection legs: a fill closes the group (cancelling the sibling of two linked legs),
a partial fill shrinks the sibling, two unfilled ends close it; and, every cycle, catching up on
reactions a failure cut short and on siblings that could not be cancelled at the time."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal

from bot.db.models import OcoGroupRecord, OrderRecord
from bot.domain.events import OcoLegDone
from bot.domain.money import ZERO, plain
from bot.domain.oco import (
    GroupEvent,
    GroupState,
    closed_pnl,
    fee_in_quote,
    leg_client_oid,
    next_state,
    sibling_role,
)
from bot.domain.orders import Order, OrderRole, OrderStatus, Side
from bot.domain.protection import (
    remaining_for_sibling,
)
from bot.domain.reasons import Reason
from bot.exchange.errors import (
    ExchangeError,
    OrderNotFound,
)
from bot.services.order_repository import group_id_of
from bot.services.protection_core import ProtectionCore, exchange_args

log = logging.getLogger(__name__)


class LegReactions(ProtectionCore):
    async def on_leg_change(self, row: OrderRecord, order: Order, previous_filled: Decimal) -> None:
        """A protection leg changed on the exchange: close the group, or shrink the sibling."""
        group_id = group_id_of(row)
        if group_id is None:
            return
        async with self._lock:
            group = await self.repo.group(group_id)
            if group is None:
                return
            role = OrderRole(row.role)
            if order.status is OrderStatus.FILLED:
                await self._leg_filled(group, row, role)
            elif order.filled_quantity > previous_filled and order.status.is_open:
                await self._leg_partly_filled(group, order, role)
            elif order.status.is_final and order.filled_quantity == 0:
                await self._leg_ended_unfilled(group)

    async def _sibling_oid(self, group: OcoGroupRecord, role: OrderRole) -> str | None:
        return (group.take_profit_client_oid if sibling_role(role) is OrderRole.TAKE_PROFIT
                else group.stop_loss_client_oid)

    async def _leg_filled(self, group: OcoGroupRecord, row: OrderRecord, role: OrderRole) -> None:
        state = GroupState(group.state)
        if state is GroupState.CLOSED and group.exit_leg not in (None, role.value):
            group.state = next_state(state, GroupEvent.SIBLING_FILLED).value
            await group.save()
            log.error("both legs of OCO group %s filled on %s", group.id, group.symbol)
            return
        if state is GroupState.CLOSED or state.is_final:
            return
        sibling_canceled = await self._cancel_sibling(group, role)
        legs = await self.repo.legs_of(group.id)
        sold = sum((leg.filled_quantity for leg in legs), ZERO)
        proceeds = sum((leg.cumulative_value or (leg.filled_quantity * (leg.avg_price or ZERO)) for leg in legs), ZERO)
        instrument = await self._instrument(group.symbol)
        exit_price = proceeds / sold if sold else (row.avg_price or ZERO)
        fees = sum((fee_in_quote(leg.fee, leg.fee_currency, base=instrument.base, quote=instrument.quote,
                                 price=leg.avg_price or exit_price) for leg in legs), ZERO)
        entry = await self.repo.get(group.entry_exchange_order_id or "")
        if entry is not None and entry.filled_quantity > 0 and entry.fee:
            # The buy's fee belongs to the round trip, in proportion to the part sold.
            entry_fee = fee_in_quote(entry.fee, entry.fee_currency, base=instrument.base, quote=instrument.quote,
                                     price=entry.avg_price or group.entry_price)
            fees += entry_fee * min(sold or row.filled_quantity, entry.filled_quantity) / entry.filled_quantity
        result = closed_pnl(quantity=sold or row.filled_quantity, entry_price=group.entry_price,
                            exit_price=exit_price, fees_in_quote=fees)
        group.state = next_state(state, GroupEvent.LEG_FILLED).value
        group.exit_leg = role.value
        group.exit_price = instrument.round_price(exit_price, Side.SELL) if exit_price else exit_price
        group.pnl = result.pnl
        group.closed_at = datetime.now(UTC)
        await group.save()
        await self.events.publish(OcoLegDone(
            group_id=group.id, symbol=group.symbol, leg=role.value, quantity=result.quantity,
            entry_price=group.entry_price, exit_price=exit_price, pnl=result.pnl,
            sibling_canceled=sibling_canceled, mode=self.mode))

    async def _cancel_sibling(self, group: OcoGroupRecord, role: OrderRole) -> bool:
        """Cancel the other leg (the exchange does it for a native OCO). True when it is gone."""
        sibling_oid = await self._sibling_oid(group, role)
        if sibling_oid is None:
            return False
        if group.native_list_id:
            sibling = await self._lookup(sibling_oid)
            if sibling is None or sibling.status.is_final:
                return True
        try:
            await self.exchange.cancel_order(symbol=group.symbol, client_oid=sibling_oid)
            return True
        except OrderNotFound:
            return True        # already gone: filled, canceled by the exchange's OCO, or by hand
        except ExchangeError as exc:
            log.error("could not cancel the sibling %s of group %s: %s", sibling_oid, group.id, exc)
            await self._publish_failure(group.id, group.symbol, ZERO, ZERO, Reason.of(
                "sibling_not_canceled", order=sibling_oid, **exchange_args(exc)))
            return False

    async def _leg_partly_filled(self, group: OcoGroupRecord, order: Order, role: OrderRole) -> None:
        if group.native_list_id or GroupState(group.state) is not GroupState.ACTIVE:
            return       # a native OCO shrinks its other leg itself
        instrument = await self._instrument(group.symbol)
        left = remaining_for_sibling(group.quantity, order.filled_quantity, instrument)
        other = sibling_role(role)
        old_oid = await self._sibling_oid(group, role)
        sibling = await self._lookup(old_oid)
        if sibling is None or sibling.status.is_final or sibling.remaining_quantity <= left:
            return
        generation = sum(1 for leg in await self.repo.legs_of(group.id) if leg.role == other.value)
        new_oid = leg_client_oid(group.id, other, max(1, generation))
        try:
            await self.exchange.cancel_order(symbol=group.symbol, client_oid=old_oid)
        except OrderNotFound:
            return
        if other is OrderRole.STOP_LOSS:
            group.stop_loss_client_oid = new_oid
        else:
            group.take_profit_client_oid = new_oid
        await group.save()
        if left <= 0:
            return
        try:
            if other is OrderRole.STOP_LOSS:
                await self._send_stop_leg(group, new_oid, left)
            else:
                await self._send_take_profit_leg(group, new_oid, left)
        except ExchangeError as exc:
            key = "stop_loss_not_reduced" if other is OrderRole.STOP_LOSS else "take_profit_not_reduced"
            await self._publish_failure(group.id, group.symbol, left, ZERO,
                                        Reason.of(key, quantity=plain(left), **exchange_args(exc)))

    async def _leg_ended_unfilled(self, group: OcoGroupRecord) -> None:
        if GroupState(group.state) not in (GroupState.ACTIVE, GroupState.PLACING):
            return
        stop = await self.repo.by_client_oid(group.stop_loss_client_oid or "")
        take = await self.repo.by_client_oid(group.take_profit_client_oid or "")
        if all(leg is not None and OrderStatus(leg.status).is_final and leg.filled_quantity == 0
               for leg in (stop, take)):
            group.state = next_state(GroupState(group.state), GroupEvent.BOTH_CANCELED).value
            await group.save()

    async def _catch_up_active_groups(self) -> None:
        """A leg's end already mirrored, but its group not moved on (the reaction was cut off by a
        failure or a crash): act on it now. The reactions are idempotent, so doing this every cycle
        never acts twice."""
        for group in await self.repo.groups_in([GroupState.ACTIVE.value]):
            current = {group.stop_loss_client_oid: OrderRole.STOP_LOSS,
                       group.take_profit_client_oid: OrderRole.TAKE_PROFIT}
            legs = [leg for leg in await self.repo.legs_of(group.id) if leg.client_oid in current]
            filled = next((leg for leg in legs if leg.status == OrderStatus.FILLED.value), None)
            if filled is None and not (len(legs) == 2 and all(OrderStatus(leg.status).is_final for leg in legs)):
                continue
            async with self._lock:
                fresh = await self.repo.group(group.id)
                if fresh is None or GroupState(fresh.state) is not GroupState.ACTIVE:
                    continue
                if filled is not None:
                    await self._leg_filled(fresh, filled, current[filled.client_oid])
                else:
                    await self._leg_ended_unfilled(fresh)

    async def _cancel_leftover_siblings(self) -> None:
        """A closed group's other leg that could not be canceled at the time (the user was told):
        a live stop-loss with nothing left to protect would sell coins that are no longer its own."""
        for leg in await self.repo.open_legs_of_closed_groups():
            try:
                await self.exchange.cancel_order(symbol=leg.symbol, client_oid=leg.client_oid)
                log.info("canceled leftover leg %s of closed group %s", leg.client_oid, group_id_of(leg))
            except OrderNotFound:
                pass                # already gone; the next sync mirrors its final state
            except ExchangeError as exc:
                log.warning("leftover leg %s still not canceled: %s; trying again next cycle",
                            leg.client_oid, exc.reason)
