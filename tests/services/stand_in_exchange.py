"""A minimal in-memory `Exchange` used only until the matching engine / simulator land.

It keeps the protocol's semantics the services rely on: balances with locking, LIMIT and
STOP_LOSS orders, native OCO (refusable), history of final orders by creation time newest first,
an order-update stream, and a record of every call (to count history requests).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from bot.domain.instrument import Instrument
from bot.domain.orders import Order, OrderStatus, OrderType, Side
from bot.exchange.base import (
    Balance,
    HistoryPage,
    OcoPlacement,
    OcoRequest,
    OrderRequest,
    OrderUpdate,
    Ticker,
    TriggerOrderRequest,
)
from bot.exchange.errors import DuplicateClientOrderId, InsufficientFunds, NativeOcoUnavailable, OrderNotFound

D = Decimal


class StandInExchange:
    name = "standin"
    mode = "paper"

    def __init__(self, instruments: dict[str, Instrument], balances: dict[str, Decimal], *,
                 native_oco: bool = True, buy_fee_rate: Decimal = Decimal(0)) -> None:
        self._instruments = instruments
        self.total = dict(balances)
        self.locked: dict[str, Decimal] = {}
        self.orders: dict[str, Order] = {}
        self.by_oid: dict[str, str] = {}
        self.lists: dict[str, list[str]] = {}
        self.prices: dict[str, Decimal] = {}
        self.native_oco = native_oco
        self.buy_fee_rate = buy_fee_rate      # buys pay their fee in the coin received
        self.calls: list[str] = []
        self._ids = itertools.count(1000)
        self._queues: list[asyncio.Queue[OrderUpdate]] = []
        self.locking: set[str] = set()      # orders holding a balance lock (untriggered stops do not)

    def now_ns(self) -> int:
        import time
        return time.time_ns()

    # helpers ------------------------------------------------------------------------------
    def _store(self, order: Order) -> Order:
        order = replace(order, updated_at=datetime.now(UTC))
        self.orders[order.order_id] = order
        if order.client_oid:
            self.by_oid[order.client_oid] = order.order_id
        for queue in self._queues:
            queue.put_nowait(OrderUpdate(order=order))
        return order

    def _lock(self, asset: str, qty: Decimal) -> None:
        free = self.total.get(asset, D(0)) - self.locked.get(asset, D(0))
        if qty > free:
            raise InsufficientFunds("not enough free balance", code="306")
        self.locked[asset] = self.locked.get(asset, D(0)) + qty

    def _unlock(self, asset: str, qty: Decimal) -> None:
        self.locked[asset] = self.locked.get(asset, D(0)) - qty

    def _new(self, *, symbol: str, side: Side, order_type: OrderType, client_oid: str | None, quantity: Decimal,
             price: Decimal | None = None, trigger: Decimal | None = None, list_id: str | None = None,
             lock: bool = True, status: OrderStatus = OrderStatus.ACTIVE) -> Order:
        if client_oid and client_oid in self.by_oid:
            raise DuplicateClientOrderId("dup", code="204")
        inst = self._instruments[symbol]
        if lock:
            if side is Side.SELL:
                self._lock(inst.base, quantity)
            else:
                self._lock(inst.quote, quantity * (price or self.prices[symbol]))
        now = self.now_ns()
        order = Order(order_id=str(next(self._ids)), client_oid=client_oid, symbol=symbol, side=side,
                      order_type=order_type, status=status, quantity=quantity, price=price, trigger_price=trigger,
                      list_id=list_id, create_time_ns=now, created_at=datetime.now(UTC))
        if lock:
            self.locking.add(order.order_id)
        return self._store(order)

    def fill(self, order_id: str, qty: Decimal | None = None, price: Decimal | None = None) -> Order:
        order = self.orders[order_id]
        inst = self._instruments[order.symbol]
        qty = order.remaining_quantity if qty is None else qty
        price = price or order.price or self.prices[order.symbol]
        filled = order.filled_quantity + qty
        value = order.cumulative_value + qty * price
        locking = order_id in self.locking
        if order.side is Side.BUY:
            if locking:
                self._unlock(inst.quote, qty * (order.price or price))
            self.total[inst.quote] -= qty * price
            fee = qty * self.buy_fee_rate
            self.total[inst.base] = self.total.get(inst.base, D(0)) + qty - fee
            order = replace(order, fee=order.fee + fee, fee_currency=inst.base if fee else order.fee_currency)
        else:
            if locking:
                self._unlock(inst.base, qty)
            self.total[inst.base] -= qty
            self.total[inst.quote] = self.total.get(inst.quote, D(0)) + qty * price
        status = OrderStatus.FILLED if filled >= order.quantity else OrderStatus.ACTIVE
        order = self._store(replace(order, filled_quantity=filled, cumulative_value=value, avg_price=value / filled,
                                    status=status))
        if status is OrderStatus.FILLED and order.list_id:
            for other in self.lists[order.list_id]:
                if other != order_id and self.orders[other].status.is_open:
                    self._cancel(other)
        return order

    def _cancel(self, order_id: str) -> None:
        order = self.orders[order_id]
        inst = self._instruments[order.symbol]
        if order_id in self.locking:
            if order.side is Side.SELL:
                self._unlock(inst.base, order.remaining_quantity)
            else:
                self._unlock(inst.quote, order.remaining_quantity * (order.price or D(0)))
        self._store(replace(order, status=OrderStatus.CANCELED))

    def set_price(self, symbol: str, price: Decimal) -> None:
        self.prices[symbol] = price
        for order in list(self.orders.values()):
            if order.symbol != symbol or not order.status.is_open:
                continue
            limit = order.price or D(0)
            crossed = price >= limit if order.side is Side.SELL else price <= limit
            if order.order_type is OrderType.LIMIT and crossed:
                self.fill(order.order_id)
            elif order.order_type is OrderType.STOP_LOSS and price <= (order.trigger_price or 0):
                self.fill(order.order_id, price=price)

    def seed_history(self, count: int, *, symbol: str, start_ns: int, end_ns: int) -> None:
        step = (end_ns - start_ns) // count
        for i in range(count):
            t = start_ns + i * step
            oid = str(next(self._ids))
            self.orders[oid] = Order(order_id=oid, client_oid=f"h{oid}", symbol=symbol, side=Side.BUY,
                                     order_type=OrderType.LIMIT, status=OrderStatus.FILLED, quantity=D(1),
                                     price=D(10), filled_quantity=D(1), avg_price=D(10), create_time_ns=t,
                                     updated_at=datetime.fromtimestamp(t / 1e9, UTC))

    # protocol -----------------------------------------------------------------------------
    async def instruments(self) -> dict[str, Instrument]:
        self.calls.append("instruments")
        return dict(self._instruments)

    async def instrument(self, symbol: str) -> Instrument:
        self.calls.append("instrument")
        return self._instruments[symbol]

    async def ticker(self, symbol: str) -> Ticker:
        return Ticker(symbol=symbol, last=self.prices.get(symbol))

    async def tickers(self) -> dict[str, Ticker]:
        self.calls.append("tickers")
        return {s: Ticker(symbol=s, last=p) for s, p in self.prices.items()}

    async def candles(self, *args: object, **kwargs: object) -> list[object]:
        return []

    async def balances(self) -> dict[str, Balance]:
        self.calls.append("balances")
        return {a: Balance(asset=a, total=t, free=t - self.locked.get(a, D(0)), locked=self.locked.get(a, D(0)))
                for a, t in self.total.items() if t}

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        self.calls.append("open_orders")
        return [o for o in self.orders.values() if o.status.is_open and (symbol is None or o.symbol == symbol)]

    async def order_history(self, start_ns: int, end_ns: int, limit: int = 100,
                            symbol: str | None = None) -> HistoryPage:
        self.calls.append("order_history")
        found = sorted((o for o in self.orders.values() if o.status.is_final and start_ns <= o.create_time_ns < end_ns),
                       key=lambda o: -o.create_time_ns)[:limit]
        return HistoryPage(orders=found, next_end_ns=found[-1].create_time_ns if found else None)

    async def order_detail(self, *, order_id: str | None = None, client_oid: str | None = None) -> Order | None:
        self.calls.append("order_detail")
        if client_oid is not None:
            order_id = self.by_oid.get(client_oid)
        return self.orders.get(order_id or "")

    async def create_order(self, request: OrderRequest) -> Order:
        self.calls.append("create_order")
        assert request.quantity is not None
        order = self._new(symbol=request.symbol, side=request.side, order_type=request.order_type,
                          client_oid=request.client_oid, quantity=request.quantity, price=request.price)
        if request.order_type is OrderType.MARKET:
            order = self.fill(order.order_id, price=self.prices[request.symbol])
        return order

    async def create_trigger_order(self, request: TriggerOrderRequest) -> Order:
        self.calls.append("create_trigger_order")
        return self._new(symbol=request.symbol, side=request.side, order_type=request.order_type,
                         client_oid=request.client_oid, quantity=request.quantity, trigger=request.trigger_price,
                         status=OrderStatus.PENDING, lock=False)

    async def create_oco(self, request: OcoRequest) -> OcoPlacement:
        self.calls.append("create_oco")
        if not self.native_oco:
            raise NativeOcoUnavailable("native OCO refused")
        list_id = f"L{next(self._ids)}"
        tp = self._new(symbol=request.symbol, side=Side.SELL, order_type=OrderType.LIMIT,
                       client_oid=request.take_profit_client_oid, quantity=request.quantity,
                       price=request.take_profit_price, list_id=list_id)
        sl = self._new(symbol=request.symbol, side=Side.SELL, order_type=OrderType.STOP_LOSS,
                       client_oid=request.stop_loss_client_oid, quantity=request.quantity,
                       trigger=request.stop_loss_trigger, list_id=list_id, lock=False, status=OrderStatus.PENDING)
        self.lists[list_id] = [tp.order_id, sl.order_id]
        return OcoPlacement(list_id=list_id, take_profit_order_id=tp.order_id, stop_loss_order_id=sl.order_id)

    async def cancel_oco(self, list_id: str, symbol: str) -> None:
        for oid in self.lists[list_id]:
            if self.orders[oid].status.is_open:
                self._cancel(oid)

    async def create_otoco(self, request: object) -> OcoPlacement:
        raise NativeOcoUnavailable("no")

    async def cancel_order(self, *, symbol: str, order_id: str | None = None, client_oid: str | None = None) -> None:
        self.calls.append("cancel_order")
        if client_oid is not None:
            order_id = self.by_oid.get(client_oid)
        order = self.orders.get(order_id or "")
        if order is None or not order.status.is_open:
            raise OrderNotFound("no active order", code="316")
        self._cancel(order.order_id)

    async def order_updates(self) -> AsyncIterator[OrderUpdate]:
        queue: asyncio.Queue[OrderUpdate] = asyncio.Queue()
        self._queues.append(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.remove(queue)

    async def close(self) -> None:
        return None
