"""The matching engine as one class: requests, lists and state, then price moves, fills, fees,
locks and list effects. Every state change goes through `_emit`, which tells the listeners and
records the change for the caller. The contract is in the package docstring."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from bot.domain.instrument import Instrument
from bot.domain.money import ZERO
from bot.domain.orders import OrderStatus, OrderType, Side
from bot.exchange.base import Candle
from bot.exchange.engine.history import FinalOrderIndex
from bot.exchange.engine.order import EngineOrder, EngineReject
from bot.exchange.engine.rules import (
    HUNDRED,
    LIMIT_PRICED,
    STOP_TYPES,
    TAKE_PROFIT_TYPES,
    fires_when_falling,
    validate_order,
)

log = logging.getLogger(__name__)

FIRST_ID = 6_100_000_000_000_000_001   # int64-sized like the real ids (beyond 2**53: catches float parsing)
MAX_ROUNDS = 50   # fills that enable other fills at the same price (OTOCO exits, stop-limits) settle in a few


class MatchingEngine:
    # crypto.com can take a buy's fee from the coin received; the paper exchange charges the quote.
    buy_fee_in_base: bool = False
    # Whether an untriggered trigger order reserves its funds. When it does not, the funds are
    # checked when it fires, and a trigger that finds them gone is rejected (306).
    trigger_orders_lock: bool = True

    def __init__(self, instruments: dict[str, Instrument], balances: dict[str, Decimal], *,
                 maker_fee_percent: Decimal = Decimal("0.25"), taker_fee_percent: Decimal = Decimal("0.5"),
                 slippage_percent: Decimal = Decimal("0.05"), max_open_per_symbol: int = 200,
                 max_open_total: int = 1000) -> None:
        self.instruments = dict(instruments)
        self.maker_fee_percent = Decimal(maker_fee_percent)
        self.taker_fee_percent = Decimal(taker_fee_percent)
        self.slippage_percent = Decimal(slippage_percent)
        self.max_open_per_symbol = max_open_per_symbol
        self.max_open_total = max_open_total
        self.listeners: list[Callable[[EngineOrder], None]] = []
        self._total: dict[str, Decimal] = {asset: Decimal(v) for asset, v in balances.items()}
        self._orders: dict[str, EngineOrder] = {}
        self._by_client_oid: dict[str, EngineOrder] = {}
        self._open: dict[str, dict[str, EngineOrder]] = {}       # symbol -> order_id -> order
        self._final: FinalOrderIndex = FinalOrderIndex()
        self._lists: dict[str, list[str]] = {}
        self._last: dict[str, Decimal] = {}
        self._next_id = FIRST_ID
        self._changes: dict[str, EngineOrder] | None = None

    # --- reads --------------------------------------------------------------------------------

    def last_price(self, symbol: str) -> Decimal | None:
        return self._last.get(symbol)

    def get(self, *, order_id: str | None = None, client_oid: str | None = None) -> EngineOrder | None:
        if order_id is not None:
            return self._orders.get(str(order_id))
        if client_oid is not None:
            return self._by_client_oid.get(client_oid)
        return None

    def open_orders(self, symbol: str | None = None) -> list[EngineOrder]:
        orders = (self._open.get(symbol, {}).values() if symbol is not None
                  else [o for book in self._open.values() for o in book.values()])
        return sorted(orders, key=lambda o: (o.create_time_ns, len(o.order_id), o.order_id))   # oldest first

    def all_orders(self) -> list[EngineOrder]:
        """Every order the engine holds, open or final, in the order it received them: the whole
        book a test compares a mirror against (history pages stop at 100)."""
        return list(self._orders.values())

    def list_orders(self, list_id: str) -> list[EngineOrder]:
        return [self._orders[i] for i in self._lists.get(list_id, [])]

    def history(self, *, start_ns: int, end_ns: int, limit: int = 100, symbol: str | None = None,
                where: Callable[[EngineOrder], bool] | None = None) -> list[EngineOrder]:
        return self._final.page(start_ns=start_ns, end_ns=end_ns, limit=limit, symbol=symbol, where=where)

    def balances(self) -> dict[str, tuple[Decimal, Decimal]]:
        locked = self._locked_by_asset()
        assets = set(self._total) | set(locked)
        return {a: (self._total.get(a, ZERO), locked.get(a, ZERO)) for a in sorted(assets)}

    def free(self, asset: str) -> Decimal:
        return self._total.get(asset, ZERO) - self._locked_by_asset().get(asset, ZERO)

    # --- market -------------------------------------------------------------------------------

    def set_price(self, symbol: str, price: Decimal, now_ns: int) -> list[EngineOrder]:
        """A new reference price: orders between the previous price and this one trade."""
        self._instrument(symbol)
        price = Decimal(price)
        with self._collect() as changed:
            previous = self._last.get(symbol, price)
            self._move(symbol, previous, price, now_ns, created_by_ns=now_ns)
            self._last[symbol] = price
        return list(changed.values())

    def apply_candle(self, symbol: str, candle: Candle, now_ns: int) -> list[EngineOrder]:
        """Walk open -> low -> high -> close (up candle) or open -> high -> low -> close (down candle).

        Only orders created at or before the candle's open time take part: a candle that began
        before an order existed says nothing about the order's price.
        """
        self._instrument(symbol)
        opened_ns = candle.timestamp_ms * 1_000_000
        path = ([candle.open, candle.low, candle.high, candle.close] if candle.close >= candle.open
                else [candle.open, candle.high, candle.low, candle.close])
        with self._collect() as changed:
            previous = self._last.get(symbol, candle.open)
            for point in path:
                self._move(symbol, previous, point, now_ns, created_by_ns=opened_ns)
                self._last[symbol] = point
                previous = point
        return list(changed.values())

    # --- orders -------------------------------------------------------------------------------

    def place(self, *, symbol: str, side: Any, order_type: Any, client_oid: str,
              quantity: Any = None, price: Any = None, notional: Any = None, trigger_price: Any = None,
              now_ns: int, advanced: bool = False, post_only: bool = False) -> EngineOrder:
        spec = self._validated(dict(symbol=symbol, side=side, order_type=order_type, client_oid=client_oid,
                                    quantity=quantity, price=price, notional=notional,
                                    trigger_price=trigger_price, post_only=post_only), advanced=advanced)
        self._check_caps(spec.symbol, 1)
        asset, amount = self._requirement(spec)
        reserves = spec.order_type is not OrderType.MARKET and (self.trigger_orders_lock
                                                               or not spec.order_type.is_trigger)
        if reserves or spec.order_type is OrderType.MARKET:
            self._check_funds(asset, amount)
        with self._collect():
            order = self._commit(spec, now_ns, lock=(asset, amount) if reserves else None)
            self._on_arrival(order, now_ns)
        return order

    def cancel(self, *, order_id: str | None = None, client_oid: str | None = None, now_ns: int) -> EngineOrder:
        order = self.get(order_id=order_id, client_oid=client_oid)
        if order is None:
            raise EngineReject("212", f"no order {order_id or client_oid}")
        if not order.is_open:
            raise EngineReject("316", f"order {order.order_id} is {order.status.value}")
        with self._collect():
            if order.list_id:
                # A native list is one thing on the exchange: cancelling a leg cancels the list.
                for leg in self.list_orders(order.list_id):
                    if leg.is_open:
                        self._finish(leg, OrderStatus.CANCELED, None if leg is order else order.contingency_type,
                                     now_ns)
            else:
                self._finish(order, OrderStatus.CANCELED, None, now_ns)
        return order

    def cancel_list(self, list_id: str, now_ns: int, *, kinds: frozenset[str] | None = None) -> list[EngineOrder]:
        """Cancel every open leg of a list. `kinds`: the contingency types the caller's method cancels
        (cancel-oco takes OCO lists only, cancel-oto / cancel-otoco the others); any other list is
        unknown to it, as on the exchange."""
        if list_id not in self._lists:
            raise EngineReject("212", f"no order list {list_id}")
        kind = self.list_orders(list_id)[0].contingency_type
        if kinds is not None and kind not in kinds:
            raise EngineReject("212", f"no {'/'.join(sorted(kinds))} list {list_id} (it is an {kind} list)")
        legs = [leg for leg in self.list_orders(list_id) if leg.is_open]
        if not legs:
            raise EngineReject("316", f"order list {list_id} has no open leg")
        with self._collect():
            for leg in legs:
                self._finish(leg, OrderStatus.CANCELED, None, now_ns)
        return legs

    def place_oco(self, legs: list[dict[str, Any]], now_ns: int) -> tuple[str, list[EngineOrder]]:
        if len(legs) != 2:
            raise EngineReject("40004", "an OCO has exactly two legs")
        specs = [self._validated(leg, advanced=True) for leg in legs]
        limit_legs = [s for s in specs if s.order_type is OrderType.LIMIT]
        trigger_legs = [s for s in specs if s.order_type.is_trigger]
        if len(limit_legs) != 1 or len(trigger_legs) != 1:
            raise EngineReject("218", "an OCO is one LIMIT leg and one trigger leg")
        self._same_list_shape(specs, same_side=True)
        self._distinct_client_oids(specs)
        self._check_caps(specs[0].symbol, 2)
        # One lock covers both legs, because only one of them can ever trade.
        requirements = [self._requirement(s) for s in specs]
        asset, amount = requirements[0][0], max(r[1] for r in requirements)
        self._check_funds(asset, amount)
        list_id = self._new_id()
        with self._collect():
            placed = []
            for spec in specs:
                spec.list_id, spec.contingency_type = list_id, "OCO"
                spec.leg_role = "limit" if spec.order_type is OrderType.LIMIT else "trigger"
                holder = spec.order_type is OrderType.LIMIT
                placed.append(self._commit(spec, now_ns, lock=(asset, amount) if holder else (asset, ZERO)))
            self._lists[list_id] = [o.order_id for o in placed]
            for order in placed:
                if order.is_open:
                    self._on_arrival(order, now_ns)
        return list_id, placed

    def place_otoco(self, legs: list[dict[str, Any]], now_ns: int) -> tuple[str, list[EngineOrder]]:
        if len(legs) != 3:
            raise EngineReject("40004", "an OTOCO has exactly three legs: entry, stop-loss, take-profit")
        entry = self._validated(legs[0], advanced=True)
        if entry.order_type.is_trigger or entry.quantity <= 0:
            raise EngineReject("218", "the OTOCO entry is a LIMIT or MARKET order with a quantity")
        reference = entry.price if entry.order_type is OrderType.LIMIT else self._last.get(entry.symbol)
        exits = [self._validated(leg, advanced=True, reference=reference) for leg in legs[1:]]
        stops = [s for s in exits if s.order_type in STOP_TYPES]
        profits = [s for s in exits if s.order_type in TAKE_PROFIT_TYPES]
        if len(stops) != 1 or len(profits) != 1:
            raise EngineReject("218", "an OTOCO needs one STOP_LOSS/STOP_LIMIT and one TAKE_PROFIT* leg")
        if any(s.side is entry.side for s in exits):
            raise EngineReject("220", "the stop-loss and take-profit legs close the entry: the other side")
        if any(s.quantity != entry.quantity or s.symbol != entry.symbol for s in exits):
            raise EngineReject("213", "the exit legs have the entry's symbol and quantity")
        specs = [entry, stops[0], profits[0]]
        self._distinct_client_oids(specs)
        self._check_caps(entry.symbol, 3)
        asset, amount = self._requirement(entry)
        self._check_funds(asset, amount)
        list_id = self._new_id()
        with self._collect():
            for spec, role in zip(specs, ("entry", "stop_loss", "take_profit"), strict=True):
                spec.list_id, spec.contingency_type, spec.leg_role = list_id, "OTOCO", role
            placed = [self._commit(entry, now_ns, lock=(asset, amount) if entry.order_type is not OrderType.MARKET
                                   else None)]
            for spec in specs[1:]:
                spec.waiting_for = placed[0].order_id
                placed.append(self._commit(spec, now_ns, lock=None))
            self._lists[list_id] = [o.order_id for o in placed]
            self._on_arrival(placed[0], now_ns)
        return list_id, placed

    def fill_partially(self, order_id: str, quantity: Any, *, now_ns: int, price: Any = None,
                       taker: bool = False) -> EngineOrder:
        """Test hook: trade part (or all) of a live order now, as the real book sometimes does."""
        order = self.get(order_id=order_id)
        if order is None:
            raise EngineReject("212", f"no order {order_id}")
        if not order.is_live:
            raise EngineReject("316", f"order {order_id} cannot trade now ({order.status.value})")
        qty = Decimal(quantity)
        inst = self._instrument(order.symbol)
        if qty <= 0 or qty > order.remaining or qty % inst.qty_tick != 0:
            raise EngineReject("213", f"partial quantity {qty} of remaining {order.remaining}")
        at = Decimal(price) if price is not None else (order.price or order.trigger_price or self._last[order.symbol])
        with self._collect():
            if order.order_type.is_trigger and not order.triggered:
                order.triggered = True
            self._execute(order, qty, at, taker=taker, now_ns=now_ns)
        return order

    def add_history(self, orders: list[EngineOrder]) -> None:
        for order in orders:
            if not order.status.is_final:
                raise ValueError(f"history holds final orders only, not {order.status.value}")
            self._orders[order.order_id] = order
            if order.client_oid:
                self._by_client_oid[order.client_oid] = order
        self._final.extend(list(orders))

    # --- state --------------------------------------------------------------------------------

    def snapshot(self, *, include_orders: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "version": 1,
            "config": {"maker_fee_percent": str(self.maker_fee_percent),
                       "taker_fee_percent": str(self.taker_fee_percent),
                       "slippage_percent": str(self.slippage_percent),
                       "max_open_per_symbol": self.max_open_per_symbol, "max_open_total": self.max_open_total},
            "balances": {a: [str(t), str(lk)] for a, (t, lk) in self.balances().items()},
            "last_prices": {s: str(p) for s, p in self._last.items()},
            "lists": {k: list(v) for k, v in self._lists.items()},
            "next_id": self._next_id,
        }
        if include_orders:
            data["orders"] = [o.to_dict() for o in self._orders.values()]
        return data

    @classmethod
    def restore(cls, data: dict[str, Any], instruments: dict[str, Instrument]) -> MatchingEngine:
        config = data.get("config", {})
        engine = cls(instruments, {a: Decimal(v[0]) for a, v in data.get("balances", {}).items()},
                     maker_fee_percent=Decimal(config.get("maker_fee_percent", "0.25")),
                     taker_fee_percent=Decimal(config.get("taker_fee_percent", "0.5")),
                     slippage_percent=Decimal(config.get("slippage_percent", "0.05")),
                     max_open_per_symbol=int(config.get("max_open_per_symbol", 200)),
                     max_open_total=int(config.get("max_open_total", 1000)))
        engine._last = {s: Decimal(p) for s, p in data.get("last_prices", {}).items()}
        engine._lists = {k: list(v) for k, v in data.get("lists", {}).items()}
        engine._next_id = int(data.get("next_id", FIRST_ID))
        final: list[EngineOrder] = []
        for raw in data.get("orders", []):
            order = EngineOrder.from_dict(raw)
            engine._orders[order.order_id] = order
            engine._by_client_oid[order.client_oid] = order
            if order.is_open:
                engine._open.setdefault(order.symbol, {})[order.order_id] = order
            else:
                final.append(order)
        engine._final.extend(final)
        return engine

    # --- validation helpers -------------------------------------------------------------------

    def _validated(self, leg: dict[str, Any], *, advanced: bool, reference: Decimal | None = None) -> EngineOrder:
        args = {k: leg.get(k) for k in ("symbol", "side", "order_type", "client_oid", "quantity", "price",
                                        "notional", "trigger_price")}
        spec = validate_order(self.instruments, self._last, **args, post_only=bool(leg.get("post_only")),
                              advanced=advanced, reference=reference,
                              slippage_percent=self.slippage_percent, taker_fee_percent=self.taker_fee_percent)
        if spec.client_oid in self._by_client_oid:
            raise EngineReject("204", f"client_oid {spec.client_oid} exists already")
        return spec

    def _same_list_shape(self, specs: list[EngineOrder], *, same_side: bool) -> None:
        first = specs[0]
        if any(s.symbol != first.symbol for s in specs):
            raise EngineReject("40004", "all legs of a list trade the same instrument")
        if same_side and any(s.side is not first.side or s.quantity != first.quantity for s in specs):
            raise EngineReject("40004", "both OCO legs have the same side and quantity")

    @staticmethod
    def _distinct_client_oids(specs: list[EngineOrder]) -> None:
        oids = [s.client_oid for s in specs]
        if len(set(oids)) != len(oids):
            raise EngineReject("204", "two legs share a client_oid")

    def _check_caps(self, symbol: str, adding: int) -> None:
        on_symbol = len(self._open.get(symbol, {}))
        total = sum(len(book) for book in self._open.values())
        if on_symbol + adding > self.max_open_per_symbol:
            raise EngineReject("318", f"{on_symbol} open orders on {symbol} (limit {self.max_open_per_symbol})")
        if total + adding > self.max_open_total:
            raise EngineReject("318", f"{total} open orders (limit {self.max_open_total})")

    def _check_funds(self, asset: str, amount: Decimal) -> None:
        free = self.free(asset)
        if amount > free:
            raise EngineReject("306", f"{asset}: needs {amount}, free {free}")

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
