"""The matching engine behind both the paper exchange and the crypto.com simulator.

Pure and synchronous: no I/O, no clock of its own (time comes in as `now_ns`). It holds
instruments, balances (total / locked per asset), orders and order lists (OCO / OTOCO), and
matches them against a reference price stream (ticks or candles). The fill model is written in
docs/paper-fill-model.md and enforced by tests/exchange/test_engine*.py.

CONTRACT (implemented here; the paper exchange and the simulator rely on these names):

    class EngineReject(Exception): code: str, message: str     # crypto.com v1 reason codes

    @dataclass class EngineOrder:                                 # mutable, engine-owned
        order_id, client_oid, symbol, side, order_type, status, quantity, price, trigger_price,
        notional, filled_quantity, cumulative_value, avg_price, fee, fee_currency, list_id,
        contingency_type, reason, create_time_ns, update_time_ns
        (+ leg_role, waiting_for, triggered, post_only, locked_asset, locked; property remaining)
        def to_order(self) -> bot.domain.orders.Order

    class MatchingEngine:
        def __init__(self, instruments: dict[str, Instrument], balances: dict[str, Decimal],
                     *, maker_fee_percent, taker_fee_percent, slippage_percent,
                     max_open_per_symbol=200, max_open_total=1000)
        listeners: list[Callable[[EngineOrder], None]]   # called on every order change
        def last_price(self, symbol) -> Decimal | None
        def set_price(self, symbol, price, now_ns) -> list[EngineOrder]          # changed orders
        def apply_candle(self, symbol, candle: Candle, now_ns) -> list[EngineOrder]
        def place(self, *, symbol, side, order_type, client_oid, quantity=None, price=None,
                  notional=None, trigger_price=None, now_ns, advanced=False, post_only=False) -> EngineOrder
            # advanced=False + trigger type -> EngineReject("140001")
        def cancel(self, *, order_id=None, client_oid=None, now_ns) -> EngineOrder
        def place_oco(self, legs: list[dict], now_ns) -> tuple[str, list[EngineOrder]]
        def place_otoco(self, legs: list[dict], now_ns) -> tuple[str, list[EngineOrder]]
        def cancel_list(self, list_id, now_ns) -> list[EngineOrder]
        def list_orders(self, list_id) -> list[EngineOrder]
        def fill_partially(self, order_id, quantity, *, now_ns, price=None, taker=False) -> EngineOrder
        def get(self, *, order_id=None, client_oid=None) -> EngineOrder | None
        def open_orders(self, symbol=None) -> list[EngineOrder]
        def history(self, *, start_ns, end_ns, limit, symbol=None) -> list[EngineOrder]  # final, newest first
        def add_history(self, orders: list[EngineOrder]) -> None                         # seeding for tests/bench
        def balances(self) -> dict[str, tuple[Decimal, Decimal]]                          # asset -> (total, locked)
        def free(self, asset) -> Decimal
        def snapshot(self) -> dict ;  @classmethod restore(cls, data: dict, instruments) -> MatchingEngine

Lists: a leg dict takes the keyword arguments of `place` (symbol, side, order_type, client_oid,
quantity, price, trigger_price). OCO = one LIMIT + one trigger leg, same symbol, side and quantity.
OTOCO = entry (LIMIT/MARKET) + STOP_LOSS|STOP_LIMIT + TAKE_PROFIT|TAKE_PROFIT_LIMIT on the other side.
Cancelling any leg of a list cancels the whole list (as a native OCO does).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bot.domain.instrument import Instrument
from bot.domain.money import ZERO
from bot.domain.orders import OrderStatus, OrderType
from bot.exchange.base import Candle
from bot.exchange.engine_history import FinalOrderIndex
from bot.exchange.engine_matching import MatchingCore
from bot.exchange.engine_order import EngineOrder, EngineReject
from bot.exchange.engine_rules import STOP_TYPES, TAKE_PROFIT_TYPES, validate_order

log = logging.getLogger(__name__)

__all__ = ["EngineOrder", "EngineReject", "MatchingEngine"]

FIRST_ID = 6_100_000_000_000_000_001   # int64-sized like the real ids (beyond 2**53: catches float parsing)


class MatchingEngine(MatchingCore):
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

    def list_orders(self, list_id: str) -> list[EngineOrder]:
        return [self._orders[i] for i in self._lists.get(list_id, [])]

    def history(self, *, start_ns: int, end_ns: int, limit: int = 100, symbol: str | None = None) -> list[EngineOrder]:
        return self._final.page(start_ns=start_ns, end_ns=end_ns, limit=limit, symbol=symbol)

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

    def cancel_list(self, list_id: str, now_ns: int) -> list[EngineOrder]:
        if list_id not in self._lists:
            raise EngineReject("212", f"no order list {list_id}")
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
