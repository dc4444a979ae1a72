"""What the live crypto.com adapter reads: instruments, market data, balances, orders and the order
stream. Nothing here can change the account; `exchange.py` holds one of these and the writes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import aiohttp

from bot.domain.instrument import Instrument
from bot.domain.orders import Order
from bot.exchange.base import (
    Balance,
    Candle,
    HistoryPage,
    OrderUpdate,
    Ticker,
)
from bot.exchange.codes import METHOD_NOT_FOUND_CODES, error_for_code
from bot.exchange.cryptocom import wire
from bot.exchange.cryptocom.client import V1Transport
from bot.exchange.cryptocom.options import CryptoComOptions
from bot.exchange.cryptocom.stream import UserOrderStream
from bot.exchange.errors import (
    ExchangeError,
    OrderNotFound,
)
from bot.exchange.marketdata import timeframe_ms

log = logging.getLogger(__name__)

MAX_HISTORY_LIMIT = 100
MAX_CANDLES = 300

class CryptoComReads:
    """Everything the adapter reads, and what it learns while reading: which ids belong on the
    advanced endpoints (`advanced_ids`, which the writes consult to route a cancel)."""

    def __init__(self, transport: V1Transport, options: CryptoComOptions, *, api_key: str, api_secret: str,
                 ws_url: str, session_factory: Callable[[], aiohttp.ClientSession] | None = None) -> None:
        self.options = options
        self.ws_url = ws_url
        self._api_key = api_key
        self._api_secret = api_secret
        self._transport = transport
        self._session_factory = session_factory
        self._instruments: dict[str, Instrument] | None = None
        self._instruments_at = 0.0
        self._advanced_reads = True
        # order_id / client_oid -> "goes to the advanced endpoints" (trigger type or list leg).
        self.advanced_ids: dict[str, bool] = {}
        # list_id -> contingency type (OCO, OTOCO, ...): which cancel method a list takes.
        self.list_kinds: dict[str, str] = {}
        # An advanced order's identity, by client_oid and by its exchange_order_id: the regular lists
        # show a fired trigger or a live list leg under that other id (section 14 of the notes).
        self._advanced_by_oid: dict[str, Order] = {}
        self._advanced_by_exchange_id: dict[str, Order] = {}
        self.streams: list[UserOrderStream] = []

    # --- market data -------------------------------------------------------------------------

    async def instruments(self) -> dict[str, Instrument]:
        fresh = time.monotonic() - self._instruments_at < self.options.instruments_ttl_seconds
        if self._instruments is None or not fresh:
            result = await self._transport.call("public/get-instruments")
            found: dict[str, Instrument] = {}
            for item in wire.result_data(result):
                inst = wire.parse_instrument(item, self.options.min_notional) if isinstance(item, dict) else None
                if inst is not None:
                    found[inst.symbol] = inst
            self._instruments, self._instruments_at = found, time.monotonic()
        return dict(self._instruments)

    async def instrument(self, symbol: str) -> Instrument:
        found = (await self.instruments()).get(symbol)
        if found is None and self._instruments_at and time.monotonic() - self._instruments_at > 60:
            self._instruments = None        # a listing newer than our copy
            found = (await self.instruments()).get(symbol)
        if found is None:
            raise error_for_code("209", symbol)
        return found

    async def ticker(self, symbol: str) -> Ticker:
        await self.instrument(symbol)
        result = await self._transport.call("public/get-tickers", {"instrument_name": symbol})
        for item in wire.result_data(result):
            if isinstance(item, dict) and item.get("i", symbol) == symbol:
                return wire.parse_ticker(item)
        return Ticker(symbol, None)

    async def tickers(self) -> dict[str, Ticker]:
        result = await self._transport.call("public/get-tickers")
        tickers = [wire.parse_ticker(item) for item in wire.result_data(result) if isinstance(item, dict)]
        return {t.symbol: t for t in tickers if t.symbol}

    async def candles(self, symbol: str, timeframe: str, limit: int = 300,
                      since_ms: int | None = None) -> list[Candle]:
        """Closed candles, oldest first: the newest `limit` (or `limit` from `since_ms`). The exchange
        gives at most 300 a request, so a longer window is read in pages, and the candle still forming
        is left out, as the paper exchange and the backtest do (indicators see the same series)."""
        await self.instrument(symbol)
        limit = max(1, limit)
        name = wire.exchange_timeframe(timeframe)
        step = timeframe_ms(name)
        now_ms = int(time.time() * 1000)
        found: dict[int, Candle] = {}
        end_ms = now_ms if since_ms is None else since_ms + step * limit
        start_floor = since_ms
        while len(found) < limit:
            count = min(MAX_CANDLES, limit - len(found) + (1 if since_ms is None else 0))
            start_ms = end_ms - step * count
            if start_floor is not None:
                start_ms = max(start_ms, start_floor)
            result = await self._transport.call("public/get-candlestick", {
                "instrument_name": symbol, "timeframe": name, "count": str(count),
                "start_ts": str(start_ms), "end_ts": str(end_ms)})
            page = [wire.parse_candle(c) for c in wire.result_data(result) if isinstance(c, dict)]
            fresh = [c for c in page if c.timestamp_ms not in found and c.timestamp_ms + step <= now_ms]
            for candle in fresh:
                found[candle.timestamp_ms] = candle
            if not page or start_ms <= (start_floor or 0):
                break
            oldest = min(c.timestamp_ms for c in page)
            if oldest >= end_ms:
                break
            end_ms = oldest               # end is exclusive: the next page ends where this one began
        candles = sorted(found.values(), key=lambda c: c.timestamp_ms)
        return candles[:limit] if since_ms is not None else candles[-limit:]

    # --- account -----------------------------------------------------------------------------

    async def balances(self) -> dict[str, Balance]:
        return wire.parse_balances(await self._transport.call("private/user-balance"))

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        params = {"instrument_name": symbol} if symbol else {}
        regular = wire.parse_orders(wire.result_data(await self._transport.call("private/get-open-orders", params)))
        advanced = wire.parse_orders(wire.result_data(
            await self._advanced_read("private/advanced/get-open-orders", params)))
        return self.remember(self.merged(regular, advanced))

    def merged(self, regular: list[Order], advanced: list[Order]) -> list[Order]:
        """Regular and advanced lists as one, each order once: an advanced order the regular list
        shows under its exchange_order_id is the same order (same client_oid), kept in its advanced
        form, which is what the advanced cancel and detail methods know."""
        self.remember(advanced)
        kept = {o.order_id: o for o in advanced}
        client_oids = {o.client_oid for o in advanced if o.client_oid}
        for order in map(self.canonical, regular):
            if order.order_id in kept or (order.client_oid and order.client_oid in client_oids):
                continue
            kept[order.order_id] = order
        return list(kept.values())

    def canonical(self, order: Order) -> Order:
        """`order` under its advanced identity when the regular lists show a known advanced order
        under its exchange_order_id; anything else as it is."""
        if order.order_type.is_trigger or order.list_id:
            return order
        known = self._advanced_by_exchange_id.get(order.order_id)
        if known is None and order.client_oid:
            known = self._advanced_by_oid.get(order.client_oid)
        if known is None or known.order_id == order.order_id:
            return order
        return replace(order, order_id=known.order_id, order_type=known.order_type, list_id=known.list_id,
                       trigger_price=order.trigger_price or known.trigger_price,
                       raw={**order.raw, "exchange_order_id": order.order_id})

    async def order_history(self, start_ns: int, end_ns: int, limit: int = 100,
                            symbol: str | None = None) -> HistoryPage:
        """Final orders created in [start_ns, end_ns), newest first. Trigger orders live in the
        advanced history; both are read for the same window and merged so that paging by
        `next_end_ns` (end exclusive) leaves no gap."""
        limit = max(1, min(limit, MAX_HISTORY_LIMIT))
        params: dict[str, Any] = {"start_time": str(start_ns), "end_time": str(end_ns), "limit": str(limit)}
        if symbol:
            params["instrument_name"] = symbol
        regular, advanced = await asyncio.gather(
            self._transport.call("private/get-order-history", params),
            self._advanced_read("private/advanced/get-order-history", params))
        sources = [wire.parse_orders(wire.result_data(regular)), wire.parse_orders(wire.result_data(advanced))]
        ordered = sorted(self.merged(*sources), key=lambda o: o.create_time_ns, reverse=True)
        page = self.remember(ordered[:limit])
        more = any(len(orders) >= limit for orders in sources) or len(ordered) > limit
        return HistoryPage(page, page[-1].create_time_ns if more and page else None)

    async def order_detail(self, *, order_id: str | None = None, client_oid: str | None = None) -> Order | None:
        advanced = self.advanced_ids.get(str(order_id or client_oid), False)
        return await self.detail(order_id=order_id, client_oid=client_oid, advanced_first=advanced)

    async def detail(self, *, order_id: str | None, client_oid: str | None, advanced_first: bool) -> Order | None:
        if not order_id and not client_oid:
            raise ValueError("order_detail needs order_id or client_oid")
        params = {"order_id": str(order_id)} if order_id else {"client_oid": str(client_oid)}
        methods = ["private/get-order-detail", "private/advanced/get-order-detail"]
        for method in reversed(methods) if advanced_first else methods:
            try:
                result = (await self._advanced_read(method, params) if "advanced" in method
                          else await self._transport.call(method, params))
            except OrderNotFound:
                continue
            if isinstance(result, dict) and "data" in result and not result.get("order_id"):
                items = wire.result_data(result)
                result = items[0] if items else None
            if isinstance(result, dict) and (result.get("order_id") or result.get("exchange_order_id")):
                return self.remember([self.canonical(wire.parse_order(result))])[0]
        return None

    async def _advanced_read(self, method: str, params: dict[str, Any]) -> Any:
        """An advanced read, or an empty answer where the exchange (or simulator) lacks the method."""
        if not self._advanced_reads:
            return {}
        try:
            return await self._transport.call(method, params)
        except ExchangeError as exc:
            if exc.code in METHOD_NOT_FOUND_CODES:
                log.info("%s is not offered here; reading regular endpoints only", method)
                self._advanced_reads = False
                return {}
            raise

    def remember(self, orders: list[Order]) -> list[Order]:
        for order in orders:
            for stream in self.streams:
                stream.expect(order)
            advanced = order.order_type.is_trigger or bool(order.list_id)
            for key in (order.order_id, order.client_oid):
                # An id once seen as advanced stays so (a regular list may show the same order plainly).
                if key and (advanced or key not in self.advanced_ids):
                    self.advanced_ids[key] = advanced
            if not advanced:
                continue
            if order.client_oid:
                self._advanced_by_oid[order.client_oid] = order
            exchange_id = wire.exchange_order_id(order)
            if exchange_id:
                self._advanced_by_exchange_id[exchange_id] = order
            kind = order.raw.get("contingency_type")
            if order.list_id and isinstance(kind, str) and kind:
                self.list_kinds[order.list_id] = kind.upper()
        return orders

    # --- order stream ------------------------------------------------------------------------

    async def order_updates(self) -> AsyncIterator[OrderUpdate]:
        """Every new order state, in arrival order, except states already superseded when their
        turn comes: a stop that fires and fills at once arrives as PENDING -> ACTIVE -> FILLED in
        one burst, and the consumer (whose reaction matters) gets the FILLED at once instead of
        first storing an ACTIVE that is no longer true. Each state it gets carries all before it."""
        queue: asyncio.Queue[OrderUpdate] = asyncio.Queue()
        stream = UserOrderStream(
            ws_url=self.ws_url, api_key=self._api_key, api_secret=self._api_secret,
            open_orders=self.open_orders, detail=lambda oid: self.order_detail(order_id=oid),
            canonical=self.canonical, options=self.options.stream(), session_factory=self._session_factory)
        self.streams.append(stream)
        task = asyncio.create_task(stream.run(queue), name="cryptocom-order-stream")
        pending: dict[str, OrderUpdate] = {}        # order_id -> newest state, oldest arrival first
        getter: asyncio.Future[OrderUpdate] | None = None
        try:
            while True:
                if queue.empty() and not pending:
                    getter = asyncio.ensure_future(queue.get())
                    done, _ = await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
                    if getter not in done:
                        getter.cancel()
                        task.result()       # the stream ended: surface why
                        return
                    first = getter.result()
                    pending[first.order.order_id] = first
                while not queue.empty():
                    update = queue.get_nowait()
                    pending.pop(update.order.order_id, None)
                    pending[update.order.order_id] = update
                update = pending.pop(next(iter(pending)))
                self.remember([update.order])
                yield update
        finally:
            # A consumer stopped while waiting: the wait goes too (else a task left pending forever).
            if getter is not None:
                getter.cancel()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            self.streams.remove(stream)

