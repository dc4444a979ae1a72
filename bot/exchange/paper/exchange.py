"""The paper exchange: the matching engine over a market-data feed, behind the `Exchange` protocol.

Requests are rounded to the instrument's ticks first (quantities down, prices in the safe
direction), exactly as the live adapter does, so the engine sees what crypto.com would see.
Engine refusals become the same project exceptions the live adapter raises (`error_for_code`).
Fill model: docs/paper-fill-model.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

from bot.domain.instrument import Instrument
from bot.domain.orders import Order, OrderType, Side
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
from bot.exchange.codes import error_for_code
from bot.exchange.engine import EngineOrder, EngineReject, MatchingEngine
from bot.exchange.marketdata import MarketData, MarketStep
from bot.exchange.paper.store import PaperStore

log = logging.getLogger(__name__)

STOP_TYPES = (OrderType.STOP_LOSS, OrderType.STOP_LIMIT)


class PaperExchange:
    name = "paper"
    mode = "paper"

    def __init__(self, market: MarketData, balances: dict[str, Decimal], *, maker_fee_percent: Decimal,
                 taker_fee_percent: Decimal, slippage_percent: Decimal, pace_seconds: float = 5.0,
                 store: PaperStore | None = None, clock: Callable[[], int] | None = None) -> None:
        self.market = market
        self.starting_balances = dict(balances)
        self.fees = (Decimal(maker_fee_percent), Decimal(taker_fee_percent), Decimal(slippage_percent))
        self.pace_seconds = pace_seconds
        self.store = store
        self._clock = clock
        self._engine: MatchingEngine | None = None
        self._queues: list[asyncio.Queue[OrderUpdate]] = []
        self._dirty: dict[str, EngineOrder] = {}
        self._lock = asyncio.Lock()
        self._loading = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Load (or restore) the engine and start the clock that replays the market at `pace_seconds`."""
        await self.engine()
        if self._task is None and self.pace_seconds > 0:
            self._task = asyncio.create_task(self._run_clock(), name="paper-clock")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._engine is not None:
            async with self._lock:
                await self._persist()
        await self.market.close()

    async def _run_clock(self) -> None:
        while True:
            await asyncio.sleep(self.pace_seconds)
            try:
                await self.advance()
            except Exception:
                log.exception("paper market step failed; trying again next tick")

    async def engine(self) -> MatchingEngine:
        """The engine, built on first use (once, even when several callers ask at the same time)."""
        async with self._loading:
            if self._engine is None:
                await self._load()
        assert self._engine is not None
        return self._engine

    async def _load(self) -> None:
        """Instruments from the feed; the engine restored from the database when a state was saved."""
        instruments = await self.market.instruments()
        saved = await self.store.load() if self.store is not None else None
        if saved is not None:
            data, market_state = saved
            self.market.restore_state(market_state)
            engine = MatchingEngine.restore(data, instruments)
            # Fees and slippage follow today's settings; orders and balances follow the saved state.
            engine.maker_fee_percent, engine.taker_fee_percent, engine.slippage_percent = self.fees
        else:
            maker, taker, slip = self.fees
            engine = MatchingEngine(instruments, self.starting_balances, maker_fee_percent=maker,
                                    taker_fee_percent=taker, slippage_percent=slip)
        # One tickers call gives every starting price (the public feed would need a request per symbol).
        for symbol, ticker in (await self.market.tickers()).items():
            if symbol in instruments and ticker.last is not None and engine.last_price(symbol) is None:
                engine.set_price(symbol, ticker.last, self._now())
        engine.listeners.append(self._on_change)
        self._engine = engine
        if saved is None and self.store is not None:
            await self._persist()

    def _now(self) -> int:
        return self._clock() if self._clock is not None else self.market.now_ns()

    async def advance(self, candles: int = 1) -> MarketStep | None:
        """Move the market forward `candles` steps and let the engine match on what happened."""
        engine = await self.engine()
        step = None
        for _ in range(candles):
            step = await self.market.step()
            async with self._lock:
                for symbol, new in step.candles.items():
                    if symbol in engine.instruments:
                        for candle in new:
                            engine.apply_candle(symbol, candle, step.now_ns)
                for symbol, price in step.prices.items():
                    if symbol in engine.instruments:
                        engine.set_price(symbol, price, step.now_ns)
                await self._persist()
        return step

    def _on_change(self, order: EngineOrder) -> None:
        self._dirty[order.order_id] = order
        update = OrderUpdate(order.to_order(), source="paper")
        for queue in self._queues:
            queue.put_nowait(update)

    async def _persist(self) -> None:
        if self.store is None or self._engine is None:
            self._dirty.clear()
            return
        changed, self._dirty = list(self._dirty.values()), {}
        await self.store.save(self._engine, changed, self.market.state())

    async def _write(self, action: Callable[[MatchingEngine, int], Any]) -> Any:
        """Run one engine write under the lock, map its refusal, then save what changed."""
        engine = await self.engine()
        async with self._lock:
            try:
                return action(engine, self._now())
            except EngineReject as reject:
                raise error_for_code(reject.code, reject.message) from None
            finally:
                await self._persist()

    # --- market data -------------------------------------------------------------------------

    async def instruments(self) -> dict[str, Instrument]:
        return dict((await self.engine()).instruments)

    async def instrument(self, symbol: str) -> Instrument:
        found = (await self.engine()).instruments.get(symbol)
        if found is None:
            raise error_for_code("209", symbol)
        return found

    async def ticker(self, symbol: str) -> Ticker:
        await self.instrument(symbol)
        tickers = await self.market.tickers()
        if symbol in tickers:
            return tickers[symbol]
        return Ticker(symbol, (await self.engine()).last_price(symbol))

    async def tickers(self) -> dict[str, Ticker]:
        return await self.market.tickers()

    async def candles(self, symbol: str, timeframe: str, limit: int = 300,
                      since_ms: int | None = None) -> list[Candle]:
        await self.instrument(symbol)
        return await self.market.candles(symbol, timeframe, limit, since_ms)

    # --- account -----------------------------------------------------------------------------

    async def balances(self) -> dict[str, Balance]:
        engine = await self.engine()
        return {asset: Balance(asset, total, total - locked, locked)
                for asset, (total, locked) in engine.balances().items() if total or locked}

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        return [o.to_order() for o in (await self.engine()).open_orders(symbol)]

    async def order_history(self, start_ns: int, end_ns: int, limit: int = 100,
                            symbol: str | None = None) -> HistoryPage:
        limit = max(1, min(limit, 100))
        page = (await self.engine()).history(start_ns=start_ns, end_ns=end_ns, limit=limit, symbol=symbol)
        full = len(page) == limit
        return HistoryPage([o.to_order() for o in page], page[-1].create_time_ns if full else None)

    async def order_detail(self, *, order_id: str | None = None, client_oid: str | None = None) -> Order | None:
        found = (await self.engine()).get(order_id=order_id, client_oid=client_oid)
        return found.to_order() if found is not None else None

    # --- orders ------------------------------------------------------------------------------

    async def create_order(self, request: OrderRequest) -> Order:
        if request.order_type.is_trigger:
            raise error_for_code("140001", request.order_type.value)
        inst = await self.instrument(request.symbol)
        quantity = inst.floor_qty(request.quantity) if request.quantity is not None else None
        price = inst.round_price(request.price, request.side) if request.price is not None else None
        if request.order_type is OrderType.MARKET:
            price = None
        notional = request.notional if quantity is None else None

        def place(engine: MatchingEngine, now: int) -> Order:
            return engine.place(symbol=inst.symbol, side=request.side, order_type=request.order_type,
                                client_oid=request.client_oid, quantity=quantity, price=price, notional=notional,
                                now_ns=now, post_only=request.post_only).to_order()
        return await self._write(place)

    async def create_trigger_order(self, request: TriggerOrderRequest) -> Order:
        inst = await self.instrument(request.symbol)
        leg = self._trigger_leg(inst, request.side, request.order_type, request.client_oid, request.quantity,
                                request.trigger_price, request.price)
        return await self._write(
            lambda engine, now: engine.place(**leg, now_ns=now, advanced=True).to_order())

    @staticmethod
    def _trigger_leg(inst: Instrument, side: Side, order_type: OrderType, client_oid: str, quantity: Decimal,
                     trigger: Decimal, price: Decimal | None) -> dict[str, Any]:
        role = "stop_loss" if order_type in STOP_TYPES else "take_profit"
        return dict(symbol=inst.symbol, side=side, order_type=order_type, client_oid=client_oid,
                    quantity=inst.floor_qty(quantity), trigger_price=inst.round_price(trigger, side, role=role),
                    price=inst.round_price(price, side) if price is not None else None)

    async def create_oco(self, request: OcoRequest) -> OcoPlacement:
        inst = await self.instrument(request.symbol)
        take_profit = dict(symbol=inst.symbol, side=request.side, order_type=OrderType.LIMIT,
                           client_oid=request.take_profit_client_oid, quantity=inst.floor_qty(request.quantity),
                           price=inst.round_price(request.take_profit_price, request.side, role="take_profit"))
        kind = OrderType.STOP_LOSS if request.stop_loss_limit_price is None else OrderType.STOP_LIMIT
        stop = self._trigger_leg(inst, request.side, kind, request.stop_loss_client_oid, request.quantity,
                                 request.stop_loss_trigger, request.stop_loss_limit_price)

        def place(engine: MatchingEngine, now: int) -> OcoPlacement:
            list_id, (tp_leg, sl_leg) = engine.place_oco([take_profit, stop], now)
            return OcoPlacement(list_id, tp_leg.order_id, sl_leg.order_id)
        return await self._write(place)

    async def cancel_oco(self, list_id: str, symbol: str) -> None:
        # As the live adapter does: an OTOCO list (an automatic buy's exits) goes to its own cancel,
        # not refused as unknown (which the caller would take for "already ended").
        await self._write(lambda engine, now: engine.cancel_list(list_id, now, kinds=None))

    async def cancel_otoco(self, list_id: str, symbol: str) -> None:
        await self._write(lambda engine, now: engine.cancel_list(list_id, now, kinds=frozenset({"OTOCO"})))

    async def create_otoco(self, request: OtocoRequest) -> OcoPlacement:
        entry = request.entry
        inst = await self.instrument(entry.symbol)
        if entry.quantity is None:
            raise error_for_code("213", "an OTOCO entry needs a quantity")
        quantity = inst.floor_qty(entry.quantity)
        exit_side = Side.SELL if entry.side is Side.BUY else Side.BUY
        entry_leg = dict(symbol=inst.symbol, side=entry.side, order_type=entry.order_type,
                         client_oid=entry.client_oid, quantity=quantity,
                         price=inst.round_price(entry.price, entry.side)
                         if entry.price is not None and entry.order_type is OrderType.LIMIT else None)
        stop = self._trigger_leg(inst, exit_side, OrderType.STOP_LOSS, request.stop_loss_client_oid, quantity,
                                 request.stop_loss_trigger, None)
        profit = self._trigger_leg(inst, exit_side, OrderType.TAKE_PROFIT_LIMIT, request.take_profit_client_oid,
                                   quantity, request.take_profit_price, request.take_profit_price)
        profit["price"] = inst.round_price(request.take_profit_price, exit_side, role="take_profit")

        def place(engine: MatchingEngine, now: int) -> OcoPlacement:
            list_id, (_, sl_leg, tp_leg) = engine.place_otoco([entry_leg, stop, profit], now)
            return OcoPlacement(list_id, tp_leg.order_id, sl_leg.order_id)
        return await self._write(place)

    async def cancel_order(self, *, symbol: str, order_id: str | None = None,
                           client_oid: str | None = None) -> None:
        await self._write(lambda engine, now: engine.cancel(order_id=order_id, client_oid=client_oid, now_ns=now))

    async def order_updates(self) -> AsyncIterator[OrderUpdate]:
        queue: asyncio.Queue[OrderUpdate] = asyncio.Queue()
        self._queues.append(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.remove(queue)
