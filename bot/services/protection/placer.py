"""Placing protection for a filled buy: a stop-loss and a take-profit sharing one OCO group.

Order of steps (crash safety): plan -> persist the group in state "placing" with its derived
client_oids -> send -> record. A restart finds "placing" groups and looks their client_oids up on
the exchange before sending anything, so a crash at any step ends with exactly one protection.
Native OCO is preferred; when the exchange refuses it, two linked orders are placed and the bot
cancels the sibling itself when one leg fills (`on_leg_change`, fed by the stream and the sync).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

from bot.db.repositories import (
    OcoGroupRecord,
    OcoGroupRepository,
    OrderRecord,
    OrderRepository,
    WatchlistRepository,
)
from bot.domain.events import ProtectionPlaced
from bot.domain.money import ZERO, plain
from bot.domain.oco import (
    GroupEvent,
    GroupState,
    group_id_for_entry,
    leg_client_oid,
    next_state,
)
from bot.domain.orders import OrderRole, OrderStatus, OrderType, Side
from bot.domain.protection import (
    DEFAULT_STOP_LOSS_PERCENT,
    DEFAULT_TAKE_PROFIT_PERCENT,
    OpenSell,
    ProtectionPlan,
    next_tranche,
    plan_protection,
)
from bot.domain.reasons import Reason
from bot.exchange.base import OcoRequest
from bot.exchange.errors import (
    ExchangeError,
    ExchangeUnavailable,
    InvalidOrder,
    NativeOcoUnavailable,
    OrderRejectedError,
    RateLimited,
)
from bot.services.events import EventBus
from bot.services.protection.links import LinkedLegs
from bot.services.protection.sender import LegSender, exchange_args, publish_failure

log = logging.getLogger(__name__)

StepHook = Callable[[str], Awaitable[None]]

# Where a crash can happen while placing protection (the crash-injection tests go through each).
PROTECTION_STEPS = ("planned", "group_saved", "native_sent", "stop_loss_sent", "take_profit_sent", "recorded")
# Refusals that mean "this exchange does not do native OCO here", not "this order is bad".
_NATIVE_REFUSAL_CODES = {"218", "40002", "140001", "50001"}


@dataclass(frozen=True)
class ProtectionResult:
    group_id: str
    state: GroupState
    quantity: Decimal
    native: bool | None
    reason: str | None = None
    reason_key: str | None = None      # bot.domain.reasons: the reason, for each reader's language
    reason_args: tuple[tuple[str, str], ...] = ()


class ProtectionPlacer:
    def __init__(self, sender: LegSender, orders: OrderRepository, groups: OcoGroupRepository,
                 watchlist: WatchlistRepository, events: EventBus, lock: asyncio.Lock, *,
                 prefer_native_oco: bool = True, step_hook: StepHook | None = None,
                 links: LinkedLegs | None = None) -> None:
        self.sender = sender
        self.exchange = sender.exchange
        self.orders = orders
        self.groups = groups
        self.watchlist = watchlist
        self.events = events
        # Shared with the leg reactor: a group is never placed and reacted to at the same time.
        self.lock = lock
        self.prefer_native_oco = prefer_native_oco
        self._step_hook = step_hook
        # Each group it activates is followed there, for the leg reactor's quick sibling cancel.
        self.links = links if links is not None else LinkedLegs()
        # The planner's detailed shortfall reason, until the group is activated (lost on a restart).
        self._plan_reasons: dict[str, Reason] = {}
        # What the last attempt at a native OCO found, so a preview can say which kind will be used.
        self.native_oco_refused = False

    @property
    def native_oco_expected(self) -> bool:
        return self.prefer_native_oco and not self.native_oco_refused

    @property
    def mode(self) -> str:
        return self.orders.mode

    async def _step(self, name: str) -> None:
        if self._step_hook is not None:
            await self._step_hook(name)

    async def _publish_failure(self, group_id: str | None, symbol: str, wanted: Decimal, protected: Decimal,
                               reason: Reason) -> None:
        await publish_failure(self.events, self.mode, group_id, symbol, wanted, protected, reason)

    async def _partly_protected(self, group: OcoGroupRecord, wanted: Decimal) -> Reason:
        instrument = await self.sender.instrument(group.symbol)
        return Reason.of("partly_protected", protected=plain(group.quantity), wanted=plain(wanted),
                         asset=instrument.base)

    async def protect(self, entry: OrderRecord) -> ProtectionResult | None:
        """Protect what a watched buy has filled and no group stands for yet; idempotent.

        A buy that fills in parts gets a group per part (tranche 0, 1, ...) as soon as the part can
        be placed on its own, while the buy is still open; what is left when it ends gets the last
        one. Each tranche is an independent OCO (its own legs, client_oids named after the tranche),
        so nothing already placed is ever amended. None: nothing to protect now."""
        async with self.events.held_while(self.lock):
            # The freshest fill: a stream update may have landed while this call waited for the lock.
            entry = await self.orders.get(entry.exchange_order_id) or entry
            tranches = await self.groups.of_entry(entry.exchange_order_id)
            if not tranches and entry.list_id:
                adopted = await self._adopt_exchange_legs(
                    group_id_for_entry(self.mode, self.orders.account, entry.exchange_order_id), entry)
                if adopted is not None:
                    await self.orders.clear_protection_due(entry)
                    return adopted
            result: ProtectionResult | None = None
            for group in tranches:
                if GroupState(group.state) is GroupState.PLACING:
                    result = await self._place(group, group.entry_quantity or group.quantity)
                else:
                    result = ProtectionResult(group.id, GroupState(group.state), group.quantity,
                                              group.native_list_id is not None)
            instrument = await self.sender.instrument(entry.symbol)
            stop_pct, _ = await self._percentages(entry.symbol)
            quantity = next_tranche(instrument, sellable_bought=await self._sellable_bought(entry),
                                    handled=sum((g.entry_quantity for g in tranches), ZERO),
                                    entry_price=entry.avg_price or entry.price, stop_loss_percent=stop_pct,
                                    buy_done=OrderStatus(entry.status).is_final)
            if quantity <= 0:
                await self.orders.clear_protection_due(entry)
                return result
            tranche = tranches[-1].tranche + 1 if tranches else 0
            group_id = group_id_for_entry(self.mode, self.orders.account, entry.exchange_order_id, tranche)
            group = await self._plan_and_save(group_id, entry, quantity, tranche)
            # The tranche is on record (in "placing" when it sends anything): from here a crash resumes it.
            await self.orders.clear_protection_due(entry)
            if GroupState(group.state) is GroupState.FAILED:
                return ProtectionResult(group_id, GroupState.FAILED, ZERO, None, group.failure_reason)
            return await self._place(group, quantity, look_first=False)

    async def _adopt_exchange_legs(self, group_id: str, entry: OrderRecord) -> ProtectionResult | None:
        """A buy sent as an OTOCO is protected by the exchange: its stop-loss and take-profit legs went
        live with the fill. They become this buy's group as they are (nothing is sent, and they are no
        "shortfall"), so their fills, P/L and health are followed like any other group."""
        legs = [o for o in await self.exchange.open_orders(entry.symbol)
                if o.list_id == entry.list_id and o.side is Side.SELL]
        stop = next((o for o in legs if o.order_type in (OrderType.STOP_LOSS, OrderType.STOP_LIMIT)), None)
        take = next((o for o in legs if o.order_type not in (OrderType.STOP_LOSS, OrderType.STOP_LIMIT)), None)
        if stop is None or take is None or stop.trigger_price is None:
            return None        # the list ended without its exits (e.g. cancelled): protect it as usual
        take_price = take.trigger_price or take.price
        group = await self.groups.create(
            group_id, symbol=entry.symbol,
            entry_exchange_order_id=entry.exchange_order_id, entry_order_id=entry.exchange_order_id,
            state=GroupState.ACTIVE.value,
            quantity=stop.quantity, entry_quantity=stop.quantity,
            entry_price=entry.avg_price or entry.price or ZERO,
            stop_loss_price=stop.trigger_price, take_profit_price=take_price or ZERO,
            native_list_id=entry.list_id, stop_loss_client_oid=stop.client_oid,
            take_profit_client_oid=take.client_oid)
        for leg, role in ((stop, OrderRole.STOP_LOSS), (take, OrderRole.TAKE_PROFIT)):
            await self.orders.link_leg(leg.order_id, group.id, role)
        await self.events.publish(ProtectionPlaced(
            group_id=group.id, symbol=group.symbol, quantity=group.quantity, entry_price=group.entry_price,
            stop_loss_price=group.stop_loss_price, take_profit_price=group.take_profit_price,
            native_oco=True, mode=self.mode))
        return ProtectionResult(group.id, GroupState.ACTIVE, group.quantity, True)

    async def plan_holding(self, symbol: str, quantity: Decimal, reference_price: Decimal, *,
                           stop_loss_percent: Decimal, take_profit_percent: Decimal) -> ProtectionPlan:
        """What protecting coins already held would place now (a Protect action's preview): the same
        planner as for a filled buy, against the free balance and the open sells."""
        instrument = await self.sender.instrument(symbol)
        balances = await self.exchange.balances()
        free = balances[instrument.base].free if instrument.base in balances else ZERO
        sells: list[OpenSell] = []
        if free < quantity:
            sells = [OpenSell(o.order_id, o.remaining_quantity, o.list_id)
                     for o in await self.exchange.open_orders(symbol) if o.side is Side.SELL]
        return plan_protection(instrument, filled_quantity=quantity, entry_price=reference_price,
                               free_quantity=free, open_sells=sells, stop_loss_percent=stop_loss_percent,
                               take_profit_percent=take_profit_percent)

    async def protect_holding(self, group_id: str, plan: ProtectionPlan, *,
                              entry_order_id: str | None = None) -> ProtectionResult:
        """Place a confirmed plan for coins already held as group `group_id` (the action's id, so its
        legs' client_oids follow from it). Idempotent like `protect`: a second call finds the group,
        and a group left "placing" looks its legs up on the exchange before sending anything.
        `entry_order_id`: the buy these coins came from, when known (a replaced group's), for the P/L."""
        async with self.events.held_while(self.lock):
            group = await self.groups.get(group_id)
            if group is None:
                group = await self.groups.create(
                    group_id, symbol=plan.symbol, entry_order_id=entry_order_id,
                    entry_exchange_order_id=None, state=GroupState.PLACING.value, quantity=plan.quantity,
                    entry_price=plan.entry_price, stop_loss_price=plan.stop_loss_price,
                    take_profit_price=plan.take_profit_price,
                    stop_loss_client_oid=leg_client_oid(group_id, OrderRole.STOP_LOSS),
                    take_profit_client_oid=leg_client_oid(group_id, OrderRole.TAKE_PROFIT))
                await self._step("group_saved")
            elif GroupState(group.state) is not GroupState.PLACING:
                return ProtectionResult(group_id, GroupState(group.state), group.quantity,
                                        group.native_list_id is not None, group.failure_reason)
            return await self._place(group, plan.quantity)

    async def resume_pending(self) -> list[ProtectionResult]:
        """After a restart: finish groups left in "placing", and protect watched fills that have none."""
        results = []
        for group in await self.groups.in_states([GroupState.PLACING.value]):
            async with self.events.held_while(self.lock):
                fresh = await self.groups.get(group.id)
                if fresh is None or GroupState(fresh.state) is not GroupState.PLACING:
                    continue
                results.append(await self._place(fresh, fresh.entry_quantity or fresh.quantity))
        for entry in await self.orders.due_for_protection():
            result = await self.protect(entry)
            if result is not None:
                results.append(result)
        return results

    async def _plan_and_save(self, group_id: str, entry: OrderRecord, bought: Decimal,
                             tranche: int) -> OcoGroupRecord:
        """Plan and record tranche `tranche` of `entry`, standing for `bought` of its fill."""
        instrument = await self.sender.instrument(entry.symbol)
        stop_pct, take_pct = await self._percentages(entry.symbol)
        entry_price = entry.avg_price or entry.price
        balances = await self.exchange.balances()
        free = balances[instrument.base].free if instrument.base in balances else ZERO
        sells: list[OpenSell] = []
        if free < bought:
            sells = [OpenSell(o.order_id, o.remaining_quantity, o.list_id)
                     for o in await self.exchange.open_orders(entry.symbol) if o.side is Side.SELL]
        plan = None
        reason: Reason | None = None
        if entry_price is None or entry_price <= 0:
            reason = Reason.of("no_fill_price")
        else:
            plan = plan_protection(instrument, filled_quantity=bought, entry_price=entry_price,
                                   free_quantity=free, open_sells=sells, stop_loss_percent=stop_pct,
                                   take_profit_percent=take_pct)
            reason = plan.shortfall
        await self._step("planned")
        places = plan is not None and plan.places_anything
        group = await self.groups.create(
            group_id, symbol=entry.symbol,
            # Only the first tranche holds the unique entry column (see OcoGroupRecord).
            entry_exchange_order_id=entry.exchange_order_id if tranche == 0 else None,
            entry_order_id=entry.exchange_order_id, tranche=tranche, entry_quantity=bought,
            state=(GroupState.PLACING if places else GroupState.FAILED).value,
            quantity=plan.quantity if plan else ZERO, entry_price=entry_price or ZERO,
            stop_loss_price=plan.stop_loss_price if plan else ZERO,
            take_profit_price=plan.take_profit_price if plan else ZERO,
            stop_loss_client_oid=leg_client_oid(group_id, OrderRole.STOP_LOSS),
            take_profit_client_oid=leg_client_oid(group_id, OrderRole.TAKE_PROFIT),
            # With a shortfall the plan's reason is kept: it names the orders that lock the rest.
            failure_reason=(reason.text if reason else "")[:255] or None)
        if reason is not None:
            self._plan_reasons[group_id] = reason
        await self._step("group_saved")
        if not places:
            await self._publish_failure(group_id, entry.symbol, bought, ZERO, reason or Reason.of("nothing_to_protect"))
        return group

    async def _sellable_bought(self, entry: OrderRecord) -> Decimal:
        """What the buy added that can be sold: a fee taken from the coin received is not there, and
        quantities below the step cannot be sold (so they are no shortfall either)."""
        instrument = await self.sender.instrument(entry.symbol)
        bought = entry.filled_quantity
        if entry.fee_currency == instrument.base and entry.fee:
            bought = max(ZERO, bought - abs(entry.fee))
        return instrument.floor_qty(bought)

    async def _percentages(self, symbol: str) -> tuple[Decimal, Decimal]:
        entry = await self.watchlist.get(symbol)
        if entry is None:
            return DEFAULT_STOP_LOSS_PERCENT, DEFAULT_TAKE_PROFIT_PERCENT
        return entry.stop_loss_percent, entry.take_profit_percent

    async def _place(self, group: OcoGroupRecord, wanted: Decimal, *, look_first: bool = True) -> ProtectionResult:
        """Send what is missing of a "placing" group: first ask the exchange what already exists.
        A group planned in this very call has sent nothing yet (its client_oids are new), so it
        skips that question (look_first=False): four requests less between a fill and its protection."""
        stop = await self.sender.lookup(group.stop_loss_client_oid) if look_first else None
        take = await self.sender.lookup(group.take_profit_client_oid) if look_first else None
        native: bool | None = None
        if stop is None and take is None:
            try:
                native = await self._send_native(group)
            except ExchangeUnavailable as exc:
                return await self._ambiguous(group, exc)
            except OrderRejectedError as exc:
                return await self._fail(group, wanted, Reason.of("refused", **exchange_args(exc)))
            if native:
                stop = take = None
        else:
            list_id = (stop and stop.list_id) or (take and take.list_id)
            native = bool(list_id)
            if list_id:
                group.native_list_id = list_id      # found by client_oid after a lost answer or a crash
        if not native:
            try:
                if stop is None:
                    stop = await self.sender.send_stop(group, group.stop_loss_client_oid or "", group.quantity)
                    await self._step("stop_loss_sent")
            except ExchangeUnavailable as exc:
                return await self._ambiguous(group, exc)
            except OrderRejectedError as exc:
                return await self._fail(group, wanted, Reason.of("stop_loss_refused", **exchange_args(exc)))
            try:
                if take is None:
                    take = await self.sender.send_take_profit(group, group.take_profit_client_oid or "",
                                                            group.quantity)
                    await self._step("take_profit_sent")
            except ExchangeUnavailable as exc:
                return await self._ambiguous(group, exc)
            except OrderRejectedError as exc:
                # The stop-loss stays: protection against the fall matters most. Health shows the gap.
                await self._activate(group, native=False, wanted=wanted,
                                     extra_failure=Reason.of("take_profit_refused", **exchange_args(exc)))
                return ProtectionResult(group.id, GroupState.ACTIVE, group.quantity, False, exc.reason)
        await self._activate(group, native=bool(native), wanted=wanted)
        return ProtectionResult(group.id, GroupState(group.state), group.quantity, bool(native))

    async def _send_native(self, group: OcoGroupRecord) -> bool:
        """True when the exchange accepted a native OCO; False when it does not offer one."""
        if not self.prefer_native_oco:
            return False
        try:
            placement = await self.exchange.create_oco(OcoRequest(
                symbol=group.symbol, side=Side.SELL, quantity=group.quantity,
                take_profit_price=group.take_profit_price, stop_loss_trigger=group.stop_loss_price,
                take_profit_client_oid=group.take_profit_client_oid or "",
                stop_loss_client_oid=group.stop_loss_client_oid or ""))
        except NativeOcoUnavailable:
            log.info("native OCO unavailable for %s: placing two linked orders", group.symbol)
            self.native_oco_refused = True
            return False
        except (RateLimited, ExchangeUnavailable):
            raise
        except (OrderRejectedError, ExchangeError) as exc:
            refused_here = type(exc) is ExchangeError or (isinstance(exc, InvalidOrder)
                                                           and exc.code in _NATIVE_REFUSAL_CODES)
            if not refused_here:
                raise
            log.info("native OCO refused for %s (%s): placing two linked orders", group.symbol, exc)
            self.native_oco_refused = True
            return False
        self.native_oco_refused = False
        group.native_list_id = placement.list_id
        await self._step("native_sent")
        await self.groups.save(group, "native_list_id")
        return True

    async def _activate(self, group: OcoGroupRecord, *, native: bool, wanted: Decimal,
                        extra_failure: Reason | None = None) -> None:
        planned = self._plan_reasons.pop(group.id, None)
        group.state = next_state(GroupState(group.state), GroupEvent.PLACED).value
        if extra_failure:
            group.failure_reason = extra_failure.text[:255]
        await self.groups.save(group)
        self.links.track(group)
        await self._step("recorded")
        # One event tells what exists and what is missing (a take-profit refused, a quantity not
        # free), so people read one true story, never "placed" followed by "failed".
        problem = extra_failure
        if problem is None and wanted > group.quantity:
            # After a restart the plan's detailed reason is gone; the numbers still say what happened.
            problem = planned or await self._partly_protected(group, wanted)
        await self.events.publish(ProtectionPlaced(
            group_id=group.id, symbol=group.symbol, quantity=group.quantity, entry_price=group.entry_price,
            stop_loss_price=group.stop_loss_price, take_profit_price=group.take_profit_price,
            native_oco=native, wanted_quantity=max(wanted, group.quantity),
            take_profit_placed=extra_failure is None, problem=problem, mode=self.mode))

    async def _fail(self, group: OcoGroupRecord, wanted: Decimal, reason: Reason) -> ProtectionResult:
        group.state = next_state(GroupState(group.state), GroupEvent.PLACEMENT_FAILED).value
        group.failure_reason = reason.text[:255]
        await self.groups.save(group)
        await self._publish_failure(group.id, group.symbol, wanted, ZERO, reason)
        return ProtectionResult(group.id, GroupState.FAILED, ZERO, None, reason.text, reason.key, reason.args)

    async def _ambiguous(self, group: OcoGroupRecord, exc: ExchangeError) -> ProtectionResult:
        # The outcome is unknown: the group stays "placing"; the next cycle looks the client_oids up.
        log.warning("protection of %s: exchange did not answer (%s); will check again", group.symbol, exc.reason)
        return ProtectionResult(group.id, GroupState.PLACING, group.quantity, None, exc.reason)
