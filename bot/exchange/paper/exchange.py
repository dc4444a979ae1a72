"""The paper exchange: simulated fills on replayed candles, behind the same `Exchange` protocol.

Fill model (README, "Paper fill model"): a LIMIT fills when a candle trades through it, at its
price (maker fee); a MARKET order fills at once at the last price plus slippage (taker fee);
STOP_LOSS / TAKE_PROFIT fire when a candle reaches the trigger and fill at the trigger with
slippage (taker). A candle is walked open -> low/high (the nearer first) -> close.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal

from bot.domain.instrument import Instrument
from bot.domain.money import ZERO
from bot.domain.orders import Order, OrderStatus, OrderType, Side
from bot.exchange.base import (
    Balance,
    Candle,
    HistoryPage,
    OcoPlacement,
    OcoRequest,
    OrderRequest,
    OrderUpdate,
    OtocoRequest,
    Ticker,
    TriggerOrderRequest,
)
from bot.exchange.errors import error_for_code
from bot.exchange.paper.replay import ReplayMarketData, instrument_for

HUNDRED = Decimal(100)


class PaperExchange:
    name = "paper"
    mode = "paper"

    def __init__(self, market: ReplayMarketData, balances: dict[str, Decimal], *, maker_fee_percent: Decimal,
                 taker_fee_percent: Decimal, slippage_percent: Decimal, pace_seconds: float = 5.0) -> None:
        self.market = market
        self.instruments_by_symbol = {s: instrument_for(s, c) for s, c in market.series.items()}
        self.total: dict[str, Decimal] = dict(balances)
        self.locked: dict[str, Decimal] = {}
        self.orders: dict[str, Order] = {}
        self.maker_fee = maker_fee_percent / HUNDRED
        self.taker_fee = taker_fee_percent / HUNDRED
        self.slippage = slippage_percent / HUNDRED
        self.pace_seconds = pace_seconds
        self._ids = itertools.count(int(time.time() * 1000) * 1000)
        self._oco_ids = itertools.count(1)
        self._queues: list[asyncio.Queue[OrderUpdate]] = []
        self._ticker_task: asyncio.Task[None] | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._ticker_task = asyncio.create_task(self._run_clock(), name="paper-clock")

    async def close(self) -> None:
        if self._ticker_task is not None:
            self._ticker_task.cancel()
            await asyncio.gather(self._ticker_task, return_exceptions=True)

    async def _run_clock(self) -> None:
        while True:
            await asyncio.sleep(self.pace_seconds)
            self.advance()

    def advance(self, candles: int = 1) -> None:
        """Move every symbol forward by `candles` and match open orders on each new candle."""
        for _ in range(candles):
            for symbol in self.market.series:
                candle = self.market.advance(symbol)
                if candle is not None:
                    self._match(symbol, candle)

    # --- market data -------------------------------------------------------------------------

    async def instruments(self) -> dict[str, Instrument]:
        return dict(self.instruments_by_symbol)

    async def instrument(self, symbol: str) -> Instrument:
        if symbol not in self.instruments_by_symbol:
            raise error_for_code("209", symbol)
        return self.instruments_by_symbol[symbol]

    async def ticker(self, symbol: str) -> Ticker:
        await self.instrument(symbol)
        c = self.market.current(symbol)
        return Ticker(symbol, c.close, c.close, c.close, c.high, c.low, c.volume, c.timestamp_ms)

    async def tickers(self) -> dict[str, Ticker]:
        return {s: await self.ticker(s) for s in self.market.series}

    async def candles(self, symbol: str, timeframe: str, limit: int = 300, since_ms: int | None = None) -> list[Candle]:
        await self.instrument(symbol)
        visible = self.market.visible(symbol)
        if since_ms is not None:
            visible = [c for c in visible if c.timestamp_ms >= since_ms]
        return visible[-limit:]

    # --- account -----------------------------------------------------------------------------

    async def balances(self) -> dict[str, Balance]:
        return {a: Balance(a, t, t - self.locked.get(a, ZERO), self.locked.get(a, ZERO))
                for a, t in self.total.items() if t or self.locked.get(a)}

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        return [o for o in self.orders.values() if o.status.is_open and (symbol is None or o.symbol == symbol)]

    async def order_history(self, start_ns: int, end_ns: int, limit: int = 100,
                            symbol: str | None = None) -> HistoryPage:
        final = sorted((o for o in self.orders.values() if o.status.is_final and start_ns <= o.create_time_ns < end_ns
                        and (symbol is None or o.symbol == symbol)), key=lambda o: o.create_time_ns, reverse=True)
        page = final[: min(limit, 100)]
        more = len(final) > len(page)
        return HistoryPage(page, page[-1].create_time_ns if more and page else None)

    async def order_detail(self, *, order_id: str | None = None, client_oid: str | None = None) -> Order | None:
        if order_id is not None:
            return self.orders.get(order_id)
        return next((o for o in self.orders.values() if o.client_oid == client_oid), None)

    # --- orders ------------------------------------------------------------------------------

    async def create_order(self, request: OrderRequest) -> Order:
        inst = await self.instrument(request.symbol)
        price = self.market.current(request.symbol).close
        if request.order_type is OrderType.MARKET:
            qty = request.quantity if request.quantity is not None else (request.notional or ZERO) / price
            return self._place(inst, request.side, OrderType.MARKET, request.client_oid, inst.floor_qty(qty),
                               None, None)
        if request.order_type is not OrderType.LIMIT or request.price is None or request.quantity is None:
            raise error_for_code("218", "LIMIT needs price and quantity; trigger types use create_trigger_order")
        return self._place(inst, request.side, OrderType.LIMIT, request.client_oid, inst.floor_qty(request.quantity),
                           inst.round_price(request.price, request.side), None)

    async def create_trigger_order(self, request: TriggerOrderRequest) -> Order:
        inst = await self.instrument(request.symbol)
        role = "stop_loss" if request.order_type in (OrderType.STOP_LOSS, OrderType.STOP_LIMIT) else "take_profit"
        trigger = inst.round_price(request.trigger_price, request.side, role=role)
        last = self.market.current(request.symbol).close
        above = trigger > last
        wants_above = (role == "take_profit") == (request.side is Side.SELL)
        if above != wants_above:
            raise error_for_code("229", f"trigger {trigger} vs market {last}")
        limit = inst.round_price(request.price, request.side) if request.price is not None else None
        return self._place(inst, request.side, request.order_type, request.client_oid,
                           inst.floor_qty(request.quantity), limit, trigger)

    async def create_oco(self, request: OcoRequest) -> OcoPlacement:
        list_id = f"oco-{next(self._oco_ids)}"
        inst = await self.instrument(request.symbol)
        qty = inst.floor_qty(request.quantity)
        # One lock covers both legs: only one of them can ever fill.
        tp = self._place(inst, request.side, OrderType.LIMIT, request.take_profit_client_oid, qty,
                         inst.round_price(request.take_profit_price, request.side, role="take_profit"), None, list_id)
        sl = self._place(inst, request.side, OrderType.STOP_LOSS, request.stop_loss_client_oid, qty, None,
                         inst.round_price(request.stop_loss_trigger, request.side, role="stop_loss"), list_id,
                         lock=False)
        return OcoPlacement(list_id, tp.order_id, sl.order_id)

    async def cancel_oco(self, list_id: str, symbol: str) -> None:
        for order in list(self.orders.values()):
            if order.list_id == list_id and order.status.is_open:
                self._finish(order, OrderStatus.CANCELED)

    async def create_otoco(self, request: OtocoRequest) -> OcoPlacement:
        raise error_for_code("218", "OTOCO is not simulated by the paper exchange yet")

    async def cancel_order(self, *, symbol: str, order_id: str | None = None, client_oid: str | None = None) -> None:
        order = await self.order_detail(order_id=order_id, client_oid=client_oid)
        if order is None:
            raise error_for_code("212", "unknown order")
        if not order.status.is_open:
            raise error_for_code("316", "order is not open")
        self._finish(order, OrderStatus.CANCELED)

    async def order_updates(self) -> AsyncIterator[OrderUpdate]:
        queue: asyncio.Queue[OrderUpdate] = asyncio.Queue()
        self._queues.append(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.remove(queue)

    # --- matching ----------------------------------------------------------------------------

    def _place(self, inst: Instrument, side: Side, order_type: OrderType, client_oid: str, qty: Decimal,
               price: Decimal | None, trigger: Decimal | None, list_id: str | None = None, *,
               lock: bool = True) -> Order:
        if any(o.client_oid == client_oid for o in self.orders.values()):
            raise error_for_code("204", client_oid)
        if qty <= 0:
            raise error_for_code("213", "quantity rounds to zero")
        reference = price or trigger or self.market.current(inst.symbol).close
        if qty * reference < inst.min_notional:
            raise error_for_code("415", f"{qty} x {reference}")
        asset, amount = (inst.quote, qty * reference * (1 + self.taker_fee)) if side is Side.BUY else (inst.base, qty)
        if lock:
            if self.total.get(asset, ZERO) - self.locked.get(asset, ZERO) < amount:
                raise error_for_code("306", f"{asset}: need {amount}")
            self.locked[asset] = self.locked.get(asset, ZERO) + amount
        now = time.time_ns()
        status = OrderStatus.PENDING if trigger is not None else OrderStatus.ACTIVE
        order = Order(str(next(self._ids)), client_oid, inst.symbol, side, order_type, status, qty, price, trigger,
                      list_id=list_id, create_time_ns=now,
                      raw={"locked_asset": asset, "locked": str(amount if lock else 0)})
        self.orders[order.order_id] = order
        self._emit(order)
        if order_type is OrderType.MARKET:
            last = self.market.current(inst.symbol).close
            self._fill(order, last * (1 + self.slippage if side is Side.BUY else 1 - self.slippage), taker=True)
        return self.orders[order.order_id]

    def _match(self, symbol: str, candle: Candle) -> None:
        path = [candle.open, candle.low, candle.high, candle.close] if candle.close >= candle.open else \
            [candle.open, candle.high, candle.low, candle.close]
        for price in path:
            for order in [o for o in self.orders.values() if o.symbol == symbol and o.status.is_open]:
                if order.order_id not in self.orders or not self.orders[order.order_id].status.is_open:
                    continue
                if order.trigger_price is not None:
                    is_stop = order.order_type in (OrderType.STOP_LOSS, OrderType.STOP_LIMIT)
                    falling = is_stop == (order.side is Side.SELL)
                    fired = price <= order.trigger_price if falling else price >= order.trigger_price
                    if fired:
                        slip = self.slippage if order.side is Side.BUY else -self.slippage
                        self._fill(order, order.trigger_price * (1 + slip), taker=True)
                elif order.price is not None:
                    crossed = price <= order.price if order.side is Side.BUY else price >= order.price
                    if crossed:
                        self._fill(order, order.price, taker=False)

    def _fill(self, order: Order, price: Decimal, *, taker: bool) -> None:
        inst = self.instruments_by_symbol[order.symbol]
        value = order.quantity * price
        fee = value * (self.taker_fee if taker else self.maker_fee)
        self._release(order)
        if order.side is Side.BUY:
            self.total[inst.quote] = self.total.get(inst.quote, ZERO) - value - fee
            self.total[inst.base] = self.total.get(inst.base, ZERO) + order.quantity
        else:
            self.total[inst.base] = self.total.get(inst.base, ZERO) - order.quantity
            self.total[inst.quote] = self.total.get(inst.quote, ZERO) + value - fee
        filled = replace(order, status=OrderStatus.FILLED, filled_quantity=order.quantity, avg_price=price,
                         cumulative_value=value, fee=fee, fee_currency=inst.quote, raw={**order.raw, "locked": "0"})
        self.orders[order.order_id] = filled
        self._emit(filled)
        if order.list_id:
            for sibling in list(self.orders.values()):
                if sibling.list_id == order.list_id and sibling.order_id != order.order_id and sibling.status.is_open:
                    self._finish(sibling, OrderStatus.CANCELED, reason="OCO")

    def _finish(self, order: Order, status: OrderStatus, reason: str | None = None) -> None:
        self._release(order)
        done = replace(order, status=status, reason=reason, raw={**order.raw, "locked": "0"})
        self.orders[order.order_id] = done
        self._emit(done)

    def _release(self, order: Order) -> None:
        asset, amount = str(order.raw.get("locked_asset")), Decimal(str(order.raw.get("locked", "0")))
        if amount:
            self.locked[asset] = self.locked.get(asset, ZERO) - amount
        if order.list_id and amount:
            # The OCO's lock passes to the sibling until the group ends.
            for sibling in self.orders.values():
                if sibling.list_id == order.list_id and sibling.order_id != order.order_id and sibling.status.is_open:
                    self.orders[sibling.order_id] = replace(sibling, raw={**sibling.raw, "locked": str(amount)})
                    self.locked[asset] = self.locked.get(asset, ZERO) + amount
                    break

    def _emit(self, order: Order) -> None:
        for queue in self._queues:
            queue.put_nowait(OrderUpdate(order, source="paper"))
