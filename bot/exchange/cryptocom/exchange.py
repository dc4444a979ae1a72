"""The live crypto.com Exchange adapter behind the `Exchange` protocol.

Writes are asynchronous on this exchange: `code 0` only means "accepted for processing", so a
create returns the acknowledged order (status NEW) and the real state follows on the order
stream. After an ambiguous failure (timeout, 5xx, dropped connection) a write is never simply
sent again: the order is looked up by its client_oid first; only when it is not there is it sent
once more with the same client_oid, and a 204 DUPLICATE_CLORDID then means the first one landed.

Trigger orders, OCO and OTOCO go to `private/advanced/*` only; `wire.order_params` refuses a
trigger type before anything could reach `private/create-order`. OCO lists are cancelled with
`cancel-oco`, OTO/OTOCO lists with `cancel-otoco` (the exchange refuses the other).

Defense in depth: unless built with live_trading=True, every private write is refused here and
again in the transport, before a byte is sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import fields, replace
from typing import Any, Self

import aiohttp

from bot.domain.instrument import Instrument
from bot.domain.orders import Order, OrderStatus
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
from bot.exchange.codes import METHOD_NOT_FOUND_CODES
from bot.exchange.cryptocom import wire
from bot.exchange.cryptocom.client import V1Transport
from bot.exchange.cryptocom.errors import LiveTradingDisabled
from bot.exchange.cryptocom.options import CryptoComOptions
from bot.exchange.cryptocom.reads import CryptoComReads
from bot.exchange.cryptocom.stream import UserOrderStream
from bot.exchange.errors import (
    DuplicateClientOrderId,
    ExchangeError,
    ExchangeUnavailable,
    NativeOcoUnavailable,
    OrderNotFound,
)

log = logging.getLogger(__name__)

# Contingency types cancelled with cancel-oto / cancel-otoco (since 2026-05-07 the exchange reports
# OTO/OTOCO lists as SPOT_ATTACH or DERIV_ATTACH).
OTOCO_KINDS = frozenset({"OTO", "OTOCO", "SPOT_ATTACH", "DERIV_ATTACH"})

__all__ = ["CryptoComExchange", "CryptoComOptions"]


class CryptoComExchange:
    """The adapter: reads delegated to a `CryptoComReads`, and the writes, which need live_trading=True."""
    name = "cryptocom"
    mode = "live"

    def __init__(self, api_key: str, api_secret: str, *, api_url: str, ws_url: str = "",
                 live_trading: bool = False, options: CryptoComOptions | None = None,
                 session_factory: Callable[[], aiohttp.ClientSession] | None = None) -> None:
        self.options = options or CryptoComOptions()
        self.live_trading = live_trading is True
        self.api_url = api_url
        self.ws_url = ws_url
        self._transport = V1Transport(api_key, api_secret, api_url, live_trading=self.live_trading,
                                      options=self.options.transport())
        self.reads = CryptoComReads(self._transport, self.options, api_key=api_key, api_secret=api_secret,
                                    ws_url=ws_url, session_factory=session_factory)
        self._missing_methods: dict[str, float] = {}      # method -> when the exchange said it has none

    @classmethod
    def from_settings(cls, settings: Any, *, live_trading: bool = False, **overrides: Any) -> Self:
        """The adapter for `settings`. Trading needs live_trading=True as well, which the factory
        passes only when settings.LIVE_TRADING is exactly true."""
        key = settings.EXCHANGE_CUSTOM_API_KEY
        secret = settings.EXCHANGE_CUSTOM_API_SECRET
        if key is None or secret is None:
            raise ValueError("the crypto.com adapter needs EXCHANGE_CUSTOM_API_KEY and EXCHANGE_CUSTOM_API_SECRET")
        names = {f.name for f in fields(CryptoComOptions)}
        options = replace(CryptoComOptions(), **{k: v for k, v in overrides.items() if k in names})
        extra = {k: v for k, v in overrides.items() if k not in names}
        return cls(key.get_secret_value(), secret.get_secret_value(), api_url=settings.EXCHANGE_API_URL,
                   ws_url=settings.EXCHANGE_WS_URL or "", live_trading=live_trading, options=options, **extra)

    def __repr__(self) -> str:
        return f"CryptoComExchange(api_url={self.api_url!r}, ws_url={self.ws_url!r}, live_trading={self.live_trading})"

    @property
    def transport(self) -> V1Transport:
        return self._transport

    @property
    def streams(self) -> list[UserOrderStream]:
        return self.reads.streams

    async def close(self) -> None:
        await self._transport.close()

    # --- reads (reads.py) --------------------------------------------------------------------

    async def instruments(self) -> dict[str, Instrument]:
        return await self.reads.instruments()

    async def instrument(self, symbol: str) -> Instrument:
        return await self.reads.instrument(symbol)

    async def ticker(self, symbol: str) -> Ticker:
        return await self.reads.ticker(symbol)

    async def tickers(self) -> dict[str, Ticker]:
        return await self.reads.tickers()

    async def candles(self, symbol: str, timeframe: str, limit: int = 300,
                      since_ms: int | None = None) -> list[Candle]:
        return await self.reads.candles(symbol, timeframe, limit, since_ms)

    async def balances(self) -> dict[str, Balance]:
        return await self.reads.balances()

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        return await self.reads.open_orders(symbol)

    async def order_history(self, start_ns: int, end_ns: int, limit: int = 100,
                            symbol: str | None = None) -> HistoryPage:
        return await self.reads.order_history(start_ns, end_ns, limit, symbol)

    async def order_detail(self, *, order_id: str | None = None, client_oid: str | None = None) -> Order | None:
        return await self.reads.order_detail(order_id=order_id, client_oid=client_oid)

    def order_updates(self) -> AsyncIterator[OrderUpdate]:
        return self.reads.order_updates()

    def _require_live(self, action: str) -> None:
        if not self.live_trading:
            raise LiveTradingDisabled(f"{action} refused: the live adapter was not built with live_trading=True")

    # --- writes ------------------------------------------------------------------------------

    async def create_order(self, request: OrderRequest) -> Order:
        self._require_live("create_order")
        inst = await self.instrument(request.symbol)
        params = wire.order_params(inst, request)
        return await self._create("private/create-order", params, advanced=False)

    async def create_trigger_order(self, request: TriggerOrderRequest) -> Order:
        self._require_live("create_trigger_order")
        inst = await self.instrument(request.symbol)
        params = wire.trigger_params(inst, request)
        return await self._create("private/advanced/create-order", params, advanced=True)

    async def _create(self, method: str, params: dict[str, Any], *, advanced: bool) -> Order:
        client_oid = params["client_oid"]

        async def lookup(attempts: int) -> Order | None:
            return await self._find(lambda: self.reads.detail(order_id=None, client_oid=client_oid,
                                                         advanced_first=advanced), attempts)

        ack = await self._send_idempotent(method, params, lookup)
        if isinstance(ack, Order):
            return ack
        order = wire.provisional_order(params, ack)
        self.reads.remember([order])
        self.reads.advanced_ids[order.order_id] = self.reads.advanced_ids[client_oid] = advanced
        return order

    async def _send_idempotent(self, method: str, params: dict[str, Any],
                               lookup: Callable[[int], Awaitable[Any]]) -> Any:
        """Send a create; after an ambiguous failure find what it did before sending it again."""
        try:
            return await self._transport.call(method, params)
        except ExchangeUnavailable as first:
            log.warning("%s: %s; looking the order up before sending anything again", method, first.reason)
            found = await lookup(self.options.lookup_attempts)
            if found is not None:
                return found
        log.warning("%s: the order is not on the exchange; sending it once more with the same client_oid", method)
        try:
            return await self._transport.call(method, params)
        except DuplicateClientOrderId:
            # The first request did land after all: the exchange knows the client_oid.
            pass
        except ExchangeUnavailable:
            pass
        found = await lookup(self.options.lookup_attempts * 2)
        if found is not None:
            return found
        raise ExchangeUnavailable(f"{method}: the outcome is still unknown after a retry; "
                                  f"look the order up by client_oid before placing it again")

    async def _find(self, lookup: Callable[[], Awaitable[Any]], attempts: int) -> Any:
        """The first non-None answer of `lookup` within `attempts`. If the lookup itself fails,
        the caller must not resend, so that failure propagates."""
        for attempt in range(max(1, attempts)):
            if attempt:
                await asyncio.sleep(self.options.lookup_delay_seconds)
            try:
                found = await lookup()
            except ExchangeUnavailable as exc:
                raise ExchangeUnavailable(f"could not check whether the order exists ({exc.reason}); "
                                          f"not sending it again") from None
            if found is not None:
                return found
        return None

    async def create_oco(self, request: OcoRequest) -> OcoPlacement:
        self._require_live("create_oco")
        params = wire.oco_params(await self.instrument(request.symbol), request)
        legs = [leg["client_oid"] for leg in params["order_list"]]   # take-profit, stop-loss
        result = await self._create_list("private/advanced/create-oco", params, legs, "native OCO")
        placement = await self._placement(result, take_profit_oid=legs[0], stop_loss_oid=legs[1])
        self.reads.list_kinds[placement.list_id] = "OCO"
        return placement

    async def create_otoco(self, request: OtocoRequest) -> OcoPlacement:
        self._require_live("create_otoco")
        params = wire.otoco_params(await self.instrument(request.entry.symbol), request)
        legs = [leg["client_oid"] for leg in params["order_list"]]   # entry, stop-loss, take-profit
        result = await self._create_list("private/advanced/create-otoco", params, legs, "OTOCO")
        placement = await self._placement(result, take_profit_oid=legs[2], stop_loss_oid=legs[1])
        self.reads.list_kinds[placement.list_id] = "OTOCO"
        return placement

    async def _create_list(self, method: str, params: dict[str, Any], legs: list[str], what: str) -> Any:
        """Send a contingent list once; after a lost answer it is found through its legs' client_oids.
        A method the exchange said it does not offer is not asked again for a while: every protection
        would otherwise pay one refused request before its two linked legs."""
        refused_at = self._missing_methods.get(method)
        if refused_at is not None and time.monotonic() - refused_at < self.options.missing_method_retry_seconds:
            raise NativeOcoUnavailable(f"the exchange does not offer {what} here", code="40002")
        try:
            return await self._send_idempotent(method, params,
                                               lambda attempts: self._find(lambda: self._find_list(legs), attempts))
        except ExchangeError as exc:
            if exc.code in METHOD_NOT_FOUND_CODES:
                self._missing_methods[method] = time.monotonic()
                raise NativeOcoUnavailable(f"the exchange does not offer {what} here", code=exc.code) from None
            raise

    async def _find_list(self, client_oids: list[str]) -> OcoPlacement | None:
        """An OCO/OTOCO found through any of its legs (after an ambiguous create)."""
        for client_oid in client_oids:
            leg = await self.reads.detail(order_id=None, client_oid=client_oid, advanced_first=True)
            if leg is not None and leg.list_id:
                return OcoPlacement(leg.list_id, None, None)
        return None

    async def _placement(self, result: Any, *, take_profit_oid: str, stop_loss_oid: str) -> OcoPlacement:
        list_id = result.list_id if isinstance(result, OcoPlacement) else (
            str(result.get("list_id") or "") if isinstance(result, dict) else "")
        if not list_id:
            raise ExchangeUnavailable("the exchange acknowledged the order list without a list_id")
        ids: dict[str, str | None] = {}
        for client_oid in (take_profit_oid, stop_loss_oid):
            ids[client_oid] = None
            for order in wire.parse_orders(wire.result_data(result) if isinstance(result, dict) else []):
                if order.client_oid == client_oid:
                    ids[client_oid] = order.order_id
                    self.reads.remember([order])      # the order stream's next round expects it too
            if ids[client_oid] is None:
                # Best effort: the list is placed either way; the ids also arrive on the stream.
                try:
                    leg = await self.reads.detail(order_id=None, client_oid=client_oid, advanced_first=True)
                except ExchangeError as exc:
                    log.info("leg %s of list %s not readable yet (%s)", client_oid, list_id, exc.reason)
                    leg = None
                ids[client_oid] = leg.order_id if leg is not None else None
            self.reads.advanced_ids[client_oid] = True
        return OcoPlacement(list_id, ids[take_profit_oid], ids[stop_loss_oid])

    async def cancel_oco(self, list_id: str, symbol: str) -> None:
        """Cancel a native OCO. `cancel-oco` takes OCO lists only, and the exchange does not know an
        OTO/OTOCO list there: a list known to be one of those goes to `cancel-otoco` instead."""
        self._require_live("cancel_oco")
        kind = self.reads.list_kinds.get(str(list_id))
        if kind in OTOCO_KINDS:
            await self._cancel_list("private/advanced/cancel-otoco", list_id)
            return
        try:
            await self._cancel_list("private/advanced/cancel-oco", list_id)
        except OrderNotFound:
            if kind is not None:
                raise
            # A list this process has not read yet (e.g. an OTOCO buy's exits, after a restart) may be
            # an OTOCO, which cancel-oco does not know: taking "not found" for "already ended" would
            # tell the user it was cancelled while both exits stay on the book.
            await self._cancel_list("private/advanced/cancel-otoco", list_id)

    async def cancel_otoco(self, list_id: str, symbol: str) -> None:
        """Cancel an OTO or OTOCO list (its legs not yet done), with `private/advanced/cancel-otoco`."""
        self._require_live("cancel_otoco")
        await self._cancel_list("private/advanced/cancel-otoco", list_id)

    async def _cancel_list(self, method: str, list_id: str) -> None:
        params = {"list_id": str(list_id)}
        try:
            await self._transport.call(method, params)
            return
        except ExchangeUnavailable as first:
            log.warning("%s %s: %s; sending the cancel once more", method, list_id, first.reason)
        try:
            # A cancel is idempotent: sending it again is safe, and "not found" then means the
            # first one went through.
            await self._transport.call(method, params)
        except OrderNotFound:
            return

    async def cancel_order(self, *, symbol: str, order_id: str | None = None,
                           client_oid: str | None = None) -> None:
        self._require_live("cancel_order")
        if not order_id and not client_oid:
            raise ValueError("cancel_order needs order_id or client_oid")
        key = str(order_id or client_oid)
        advanced = self.reads.advanced_ids.get(key)
        if advanced is None:
            known = await self.order_detail(order_id=order_id, client_oid=client_oid)
            if known is None:
                raise OrderNotFound("no order with this id", code="212")
            advanced = self.reads.advanced_ids.get(known.order_id, False)
        method = "private/advanced/cancel-order" if advanced else "private/cancel-order"
        params = {"order_id": str(order_id)} if order_id else {"client_oid": str(client_oid)}
        try:
            await self._transport.call(method, params)
            return
        except ExchangeUnavailable as first:
            log.warning("%s: %s; checking the order before cancelling again", method, first.reason)
            ambiguous = first
        state = await self._find(lambda: self.reads.detail(order_id=order_id, client_oid=client_oid,
                                                      advanced_first=bool(advanced)), 1)
        if state is None:
            raise ambiguous
        if state.status is OrderStatus.CANCELED:
            return
        if state.status.is_final:
            raise OrderNotFound(f"the order is no longer open ({state.status.value})", code="316")
        try:
            await self._transport.call(method, params)
        except OrderNotFound:
            state = await self.reads.detail(order_id=order_id, client_oid=client_oid, advanced_first=bool(advanced))
            if state is not None and state.status is OrderStatus.CANCELED:
                return
            raise

