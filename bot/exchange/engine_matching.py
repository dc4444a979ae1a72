"""The trading half of the matching engine: price moves, fills, fees, locks and list effects.

Kept apart from `engine.py` (requests, lists, state) so each file holds one idea. Every state
change goes through `_emit`, which tells the listeners and records the change for the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal

from bot.domain.instrument import Instrument
from bot.domain.money import ZERO
from bot.domain.orders import OrderStatus, OrderType, Side
from bot.exchange.engine_history import FinalOrderIndex
from bot.exchange.engine_order import EngineOrder, EngineReject
from bot.exchange.engine_rules import HUNDRED, LIMIT_PRICED, fires_when_falling

log = logging.getLogger(__name__)

MAX_ROUNDS = 50   # fills that enable other fills at the same price (OTOCO exits, stop-limits) settle in a few


class MatchingCore:
    instruments: dict[str, Instrument]
    maker_fee_percent: Decimal
    taker_fee_percent: Decimal
    # crypto.com can take a buy's fee from the coin received; the paper exchange charges the quote.
    buy_fee_in_base: bool = False
    # Whether an untriggered trigger order reserves its funds. When it does not, the funds are
    # checked when it fires, and a trigger that finds them gone is rejected (306).
    trigger_orders_lock: bool = True
    slippage_percent: Decimal
    listeners: list[Callable[[EngineOrder], None]]
    _total: dict[str, Decimal]
    _orders: dict[str, EngineOrder]
    _by_client_oid: dict[str, EngineOrder]
    _open: dict[str, dict[str, EngineOrder]]
    _final: FinalOrderIndex
    _lists: dict[str, list[str]]
    _last: dict[str, Decimal]
    _next_id: int
    _changes: dict[str, EngineOrder] | None

    # --- plumbing -----------------------------------------------------------------------------

    def _instrument(self, symbol: str) -> Instrument:
        inst = self.instruments.get(symbol)
        if inst is None:
            raise EngineReject("209", f"unknown instrument {symbol!r}")
        return inst

    def _new_id(self) -> str:
        value = self._next_id
        self._next_id += 1
        return str(value)

    @contextmanager
    def _collect(self) -> Iterator[dict[str, EngineOrder]]:
        """Record every order changed inside the block (nested blocks share the outer record)."""
        if self._changes is not None:
            yield self._changes
            return
        self._changes = {}
        try:
            yield self._changes
        finally:
            self._changes = None

    def _emit(self, order: EngineOrder) -> None:
        if self._changes is not None:
            self._changes[order.order_id] = order
        for listener in list(self.listeners):
            try:
                listener(order)
            except Exception:
                # A listener's bug must not leave the book half-updated.
                log.exception("engine listener failed on order %s", order.order_id)

    def _locked_by_asset(self) -> dict[str, Decimal]:
        locked: dict[str, Decimal] = {}
        for book in self._open.values():
            for order in book.values():
                if order.locked and order.locked_asset:
                    locked[order.locked_asset] = locked.get(order.locked_asset, ZERO) + order.locked
        return locked

    def _requirement(self, spec: EngineOrder) -> tuple[str, Decimal]:
        """What an order must hold: base quantity for a SELL; for a BUY, quote at its worst fill price
        plus the fee (so a fill can never drive the quote balance negative)."""
        inst = self._instrument(spec.symbol)
        if spec.side is Side.SELL:
            return inst.base, spec.quantity
        fee = 1 + max(self.maker_fee_percent, self.taker_fee_percent) / HUNDRED
        slip = 1 + self.slippage_percent / HUNDRED
        if spec.order_type is OrderType.MARKET:
            if spec.notional is not None:
                return inst.quote, spec.notional
            return inst.quote, spec.quantity * self._last[spec.symbol] * slip * fee
        if spec.order_type in LIMIT_PRICED:
            assert spec.price is not None
            return inst.quote, spec.quantity * spec.price * fee
        assert spec.trigger_price is not None
        return inst.quote, spec.quantity * spec.trigger_price * slip * fee

    # --- placing ------------------------------------------------------------------------------

    def _commit(self, spec: EngineOrder, now_ns: int, *, lock: tuple[str, Decimal] | None) -> EngineOrder:
        spec.order_id = self._new_id()
        spec.client_oid = spec.client_oid or spec.order_id
        spec.create_time_ns = spec.update_time_ns = now_ns
        spec.status = (OrderStatus.PENDING if spec.order_type.is_trigger or spec.waiting_for
                       else OrderStatus.ACTIVE)
        if lock is not None:
            spec.locked_asset, spec.locked = lock
        self._orders[spec.order_id] = spec
        self._by_client_oid[spec.client_oid] = spec
        self._open.setdefault(spec.symbol, {})[spec.order_id] = spec
        self._emit(spec)
        return spec

    def _on_arrival(self, order: EngineOrder, now_ns: int) -> None:
        """MARKET trades now; a LIMIT that crosses the market trades now as taker at the better price."""
        last = self._last.get(order.symbol)
        if order.order_type is OrderType.MARKET:
            assert last is not None
            slip = self.slippage_percent / HUNDRED
            self._execute(order, order.remaining, last * (1 + slip if order.side is Side.BUY else 1 - slip),
                          taker=True, now_ns=now_ns)
        elif order.order_type is OrderType.LIMIT and last is not None and order.price is not None:
            if order.side is Side.BUY and order.price >= last:
                self._execute(order, order.remaining, min(order.price, last), taker=True, now_ns=now_ns)
            elif order.side is Side.SELL and order.price <= last:
                self._execute(order, order.remaining, max(order.price, last), taker=True, now_ns=now_ns)

    # --- matching -----------------------------------------------------------------------------

    def _move(self, symbol: str, previous: Decimal, price: Decimal, now_ns: int, *, created_by_ns: int) -> None:
        """The price travels from `previous` to `price`: orders reached on the way trade, nearest first."""
        for _ in range(MAX_ROUNDS):
            reached = [o for o in self._open.get(symbol, {}).values()
                       if o.is_live and o.create_time_ns <= created_by_ns and self._reached(o, price)]
            if not reached:
                return
            reached.sort(key=lambda o: abs(self._level(o) - previous))
            for order in reached:
                if order.is_live and self._reached(order, price):
                    self._trade(order, now_ns)
        log.warning("matching on %s did not settle in %d rounds", symbol, MAX_ROUNDS)

    @staticmethod
    def _level(order: EngineOrder) -> Decimal:
        if order.order_type.is_trigger and not order.triggered:
            assert order.trigger_price is not None
            return order.trigger_price
        assert order.price is not None
        return order.price

    @staticmethod
    def _reached(order: EngineOrder, price: Decimal) -> bool:
        if order.order_type.is_trigger and not order.triggered:
            assert order.trigger_price is not None
            if fires_when_falling(order.order_type, order.side):
                return price <= order.trigger_price
            return price >= order.trigger_price
        if order.price is None:
            return False
        return price <= order.price if order.side is Side.BUY else price >= order.price

    def _trade(self, order: EngineOrder, now_ns: int) -> None:
        if not (order.order_type.is_trigger and not order.triggered):
            assert order.price is not None
            self._execute(order, order.remaining, order.price, taker=False, now_ns=now_ns)   # resting: maker
            return
        if not order.locked and not order.list_id and not self._can_fund(order):
            self._finish(order, OrderStatus.REJECTED, "306", now_ns)
            return
        order.triggered = True
        trigger = order.trigger_price
        assert trigger is not None
        if order.order_type in LIMIT_PRICED:
            # A stop-limit becomes a limit order the moment the price is at its trigger.
            order.status, order.update_time_ns = OrderStatus.ACTIVE, now_ns
            self._emit(order)
            assert order.price is not None
            if order.side is Side.BUY and order.price >= trigger:
                self._execute(order, order.remaining, min(order.price, trigger), taker=True, now_ns=now_ns)
            elif order.side is Side.SELL and order.price <= trigger:
                self._execute(order, order.remaining, max(order.price, trigger), taker=True, now_ns=now_ns)
            return
        slip = self.slippage_percent / HUNDRED
        fill = trigger * (1 + slip) if order.side is Side.BUY else trigger * (1 - slip)
        self._execute(order, order.remaining, fill, taker=True, now_ns=now_ns)

    def _can_fund(self, order: EngineOrder) -> bool:
        asset, amount = self._requirement(order)
        free = self._total.get(asset, ZERO) - self._locked_by_asset().get(asset, ZERO)
        return free >= amount * order.remaining / order.quantity

    # --- settlement ---------------------------------------------------------------------------

    def _lock_holder(self, order: EngineOrder) -> EngineOrder | None:
        if order.locked or not order.list_id:
            return order
        for leg_id in self._lists.get(order.list_id, []):
            leg = self._orders[leg_id]
            if leg.is_open and leg.locked and leg.locked_asset == order.locked_asset:
                return leg
        return None

    def _execute(self, order: EngineOrder, qty: Decimal, price: Decimal, *, taker: bool, now_ns: int) -> None:
        inst = self._instrument(order.symbol)
        value = qty * price
        fee = value * (self.taker_fee_percent if taker else self.maker_fee_percent) / HUNDRED
        holder = self._lock_holder(order)
        if holder is not None and holder.locked:
            if order.side is Side.SELL:
                release = min(qty, holder.locked)
            else:
                release = holder.locked if qty >= order.remaining else holder.locked * qty / order.remaining
            holder.locked -= release
        fee_currency = inst.quote
        if order.side is Side.BUY and self.buy_fee_in_base:
            fee, fee_currency = fee / price, inst.base
            self._total[inst.quote] = self._total.get(inst.quote, ZERO) - value
            self._total[inst.base] = self._total.get(inst.base, ZERO) + qty - fee
        elif order.side is Side.BUY:
            self._total[inst.quote] = self._total.get(inst.quote, ZERO) - value - fee
            self._total[inst.base] = self._total.get(inst.base, ZERO) + qty
        else:
            self._total[inst.base] = self._total.get(inst.base, ZERO) - qty
            self._total[inst.quote] = self._total.get(inst.quote, ZERO) + value - fee
        order.filled_quantity += qty
        order.cumulative_value += value
        order.avg_price = order.cumulative_value / order.filled_quantity
        order.fee += fee
        order.fee_currency = fee_currency
        order.update_time_ns = now_ns
        if order.remaining <= 0:
            self._finish(order, OrderStatus.FILLED, None, now_ns)
        else:
            order.status = OrderStatus.ACTIVE
            self._emit(order)
        if order.list_id:
            self._after_leg_trade(order, qty, now_ns)

    def _after_leg_trade(self, order: EngineOrder, qty: Decimal, now_ns: int) -> None:
        legs = [self._orders[i] for i in self._lists.get(order.list_id or "", []) if i != order.order_id]
        if order.leg_role == "entry":
            if order.status is OrderStatus.FILLED:
                self._arm_exits(order, [leg for leg in legs if leg.waiting_for == order.order_id], now_ns)
            return
        for sibling in legs:
            if not sibling.is_open or sibling.leg_role == "entry":
                continue
            if order.status is OrderStatus.FILLED:
                self._finish(sibling, OrderStatus.CANCELED, order.contingency_type or "OCO", now_ns)
            else:
                # A partial fill of one leg shrinks the other: together they never sell more than held.
                sibling.quantity -= qty
                sibling.update_time_ns = now_ns
                if sibling.remaining <= 0:
                    self._finish(sibling, OrderStatus.CANCELED, order.contingency_type or "OCO", now_ns)
                else:
                    self._emit(sibling)

    def _arm_exits(self, entry: EngineOrder, exits: list[EngineOrder], now_ns: int) -> None:
        """The entry is fully filled: its stop-loss and take-profit go live as an OCO pair."""
        if not exits:
            return
        requirements = [self._requirement(leg) for leg in exits]
        asset, amount = requirements[0][0], max(r[1] for r in requirements)
        free = self._total.get(asset, ZERO) - self._locked_by_asset().get(asset, ZERO)
        if amount > free:
            for leg in exits:
                self._finish(leg, OrderStatus.CANCELED, "306", now_ns)
            return
        for index, leg in enumerate(exits):
            leg.waiting_for = None
            leg.locked_asset, leg.locked = asset, amount if index == 0 else ZERO
            leg.update_time_ns = now_ns
            self._emit(leg)

    def _finish(self, order: EngineOrder, status: OrderStatus, reason: str | None, now_ns: int) -> None:
        order.status = status
        order.reason = reason
        order.locked = ZERO
        order.update_time_ns = now_ns
        self._open.get(order.symbol, {}).pop(order.order_id, None)
        self._final.add(order)
        self._emit(order)
        if order.leg_role == "entry" and status is not OrderStatus.FILLED and order.list_id:
            for leg_id in self._lists.get(order.list_id, []):
                leg = self._orders[leg_id]
                if leg.is_open and leg.waiting_for == order.order_id:
                    self._finish(leg, OrderStatus.CANCELED, order.contingency_type, now_ns)
