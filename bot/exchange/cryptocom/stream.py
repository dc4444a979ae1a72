"""Order updates: the v1 user WebSocket (`user.order` and `user.advance.order`), with REST polling
whenever it is down.

Connect, wait (the exchange pro-rates WS limits from the second the connection opened, so a
request at once can get TOO_MANY_REQUESTS), `public/auth` signed with id == nonce, subscribe to
`user.order` and `user.advance.order`, answer every `public/heartbeat` with
`public/respond-heartbeat` (same id) at once, since the server drops a connection that has not
answered within 5 s. Trigger orders and list legs (everything placed through `private/advanced/*`)
change on `user.advance.order`; some pages of the reference spell it `user.advanced.order`, so
pushes named either way are taken (docs/cryptocom-exchange-v1.md, section 14).

No update may be lost while the socket is down: every order seen is tracked, and a polling round
(open orders, then a detail lookup for each tracked order that left the open list) runs right
after each (re)connect and every `poll_interval` while disconnected. With no WS URL, polling only.
Both sources go through one tracker, so an unchanged order is not reported twice. Orders the
adapter learns are open some other way (it placed them, or a read such as the sync's listed them)
are expected by the next round too: one that opens and fills between two rounds, never listed
open by the stream itself, is still looked up and reported within one round.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import aiohttp

from bot.domain.orders import Order, OrderStatus
from bot.exchange.base import OrderUpdate
from bot.exchange.cryptocom.wire import parse_order
from bot.exchange.errors import AuthenticationFailed, ExchangeError
from bot.exchange.v1_signing import signature

log = logging.getLogger(__name__)

ORDER_CHANNEL = "user.order"
ADVANCED_CHANNEL = "user.advance.order"            # the subscribe reference's spelling
# Pushes whose channel starts with one of these carry orders.
ORDER_CHANNELS = (ORDER_CHANNEL, ADVANCED_CHANNEL, "user.advanced.order")


@dataclass(frozen=True)
class StreamOptions:
    connect_delay_seconds: float = 1.0      # the docs' "wait about 1 s after connecting"
    reply_timeout_seconds: float = 10.0     # auth / subscribe answers
    poll_interval_seconds: float = 5.0      # while the socket is down (or there is none)
    reconnect_base_seconds: float = 1.0
    reconnect_max_seconds: float = 60.0
    receive_timeout_seconds: float = 90.0   # three missed 30 s heartbeats: the link is dead


class OrderTracker:
    """Last known state per order, so the WebSocket and polling can both report without repeats."""

    def __init__(self, remember_final: int = 5000) -> None:
        self.open: dict[str, Order] = {}
        self._final: OrderedDict[str, tuple[Any, ...]] = OrderedDict()
        self._remember_final = remember_final

    @staticmethod
    def _state(order: Order) -> tuple[Any, ...]:
        return (order.status, order.filled_quantity, order.cumulative_value, order.fee, order.price,
                order.trigger_price, order.quantity)

    def changed(self, order: Order) -> bool:
        """Record `order`; True when it is news (first sight, or a different state)."""
        state = self._state(order)
        if order.order_id in self._final:
            return False            # a final state never changes again
        previous = self.open.get(order.order_id)
        if order.status.is_final:
            self.open.pop(order.order_id, None)
            self._final[order.order_id] = state
            while len(self._final) > self._remember_final:
                self._final.popitem(last=False)
            return True
        if previous is not None and self._older(order, previous):
            return False            # a late push or a poll overtaken by the stream: keep the newer state
        self.open[order.order_id] = order
        return previous is None or self._state(previous) != state

    @staticmethod
    def _older(order: Order, known: Order) -> bool:
        """Fills only grow, and a live order never goes back to waiting: anything else is stale."""
        if order.filled_quantity < known.filled_quantity:
            return True
        return (order.filled_quantity == known.filled_quantity and known.status is OrderStatus.ACTIVE
                and order.status in (OrderStatus.NEW, OrderStatus.PENDING))


OpenOrdersFn = Callable[[], Awaitable[list[Order]]]
DetailFn = Callable[[str], Awaitable[Order | None]]


class UserOrderStream:
    """One subscriber's stream: put every new order state on `queue` until cancelled."""

    def __init__(self, *, ws_url: str, api_key: str, api_secret: str, open_orders: OpenOrdersFn,
                 detail: DetailFn, canonical: Callable[[Order], Order] | None = None,
                 options: StreamOptions | None = None,
                 session_factory: Callable[[], aiohttp.ClientSession] | None = None) -> None:
        self.ws_url = ws_url
        self._api_key = api_key
        self._api_secret = api_secret
        self._open_orders = open_orders
        self._detail = detail
        self._canonical = canonical or (lambda order: order)
        self.channels = [ORDER_CHANNEL, ADVANCED_CHANNEL]
        self.options = options or StreamOptions()
        self._session_factory = session_factory or aiohttp.ClientSession
        self.tracker = OrderTracker()
        # Open orders known from elsewhere (see `expect`), until a round has looked at them.
        self.expected: dict[str, None] = {}
        self.connected = asyncio.Event()
        self.connections = 0
        self.heartbeats_answered = 0
        self._ids = int(time.time() * 1000)

    def __repr__(self) -> str:
        return f"UserOrderStream(ws_url={self.ws_url!r})"

    def _next_id(self) -> int:
        # id == nonce for public/auth, and nonces are ms; keep them rising even within one ms.
        self._ids = max(self._ids + 1, int(time.time() * 1000))
        return self._ids

    def expect(self, order: Order) -> None:
        """The adapter placed or read `order`: while it is open, the next round checks it even if the
        open list no longer shows it (it filled or was cancelled in between)."""
        if order.status.is_final:
            self.expected.pop(order.order_id, None)
        elif order.order_id not in self.tracker.open:
            self.expected[order.order_id] = None

    async def run(self, queue: asyncio.Queue[OrderUpdate]) -> None:
        if not self.ws_url:
            while True:
                await self._poll(queue)
                await asyncio.sleep(self.options.poll_interval_seconds)
        failures = 0
        async with self._session_factory() as session:
            while True:
                try:
                    await self._connected_session(session, queue)
                    failures = 0        # the server closed a working connection: come back at once
                except asyncio.CancelledError:
                    raise
                except AuthenticationFailed as exc:
                    failures += 1
                    log.error("order stream: %s", exc)
                except Exception as exc:
                    failures += 1
                    log.warning("order stream disconnected (%s); polling until it is back", type(exc).__name__)
                finally:
                    self.connected.clear()
                delay = min(self.options.reconnect_base_seconds * (2 ** max(failures - 1, 0)),
                            self.options.reconnect_max_seconds) if failures else 0.0
                await self._poll_while_waiting(queue, delay)

    async def _poll_while_waiting(self, queue: asyncio.Queue[OrderUpdate], delay: float) -> None:
        deadline = time.monotonic() + delay
        await self._poll(queue)
        while (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(left, self.options.poll_interval_seconds))
            if deadline - time.monotonic() > 0:
                await self._poll(queue)

    async def _connected_session(self, session: aiohttp.ClientSession, queue: asyncio.Queue[OrderUpdate]) -> None:
        timeout = aiohttp.ClientWSTimeout(ws_receive=self.options.receive_timeout_seconds)
        async with session.ws_connect(self.ws_url, autoping=True, heartbeat=None, timeout=timeout) as ws:
            await asyncio.sleep(self.options.connect_delay_seconds)
            await self._authenticate(ws, queue)
            await self._subscribe(ws, queue)
            self.connections += 1
            self.connected.set()
            # Whatever changed while the socket was down: the subscribe reply lists open orders, but
            # orders that finished in the gap are only found by asking for them. That poll runs beside
            # the reading, so heartbeats are answered within their 5 s however slow REST is.
            catch_up = asyncio.create_task(self._poll(queue), name="order-stream-catch-up")
            try:
                async for message in ws:
                    if message.type is not aiohttp.WSMsgType.TEXT:
                        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                            aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.ERROR):
                            break
                        continue
                    await self._handle(ws, message.data, queue)
            finally:
                catch_up.cancel()
                await asyncio.gather(catch_up, return_exceptions=True)
        raise ConnectionError(f"the order stream closed (code {ws.close_code})")

    async def _request(self, ws: aiohttp.ClientWebSocketResponse, payload: dict[str, Any],
                       queue: asyncio.Queue[OrderUpdate]) -> dict[str, Any]:
        """Send and wait for the reply with the same id, handling whatever else arrives meanwhile."""
        await ws.send_str(json.dumps(payload))
        deadline = time.monotonic() + self.options.reply_timeout_seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no answer to {payload['method']}")
            message = await ws.receive(timeout=left)
            if message.type is not aiohttp.WSMsgType.TEXT:
                raise ConnectionError(f"the order stream closed during {payload['method']}")
            data = await self._handle(ws, message.data, queue)
            if data is not None and str(data.get("id")) == str(payload["id"]) \
                    and data.get("method") == payload["method"]:
                return data

    async def _authenticate(self, ws: aiohttp.ClientWebSocketResponse, queue: asyncio.Queue[OrderUpdate]) -> None:
        request_id = self._next_id()
        sig = signature(self._api_secret, "public/auth", request_id, self._api_key, None, request_id)
        reply = await self._request(ws, {"id": request_id, "method": "public/auth", "api_key": self._api_key,
                                         "sig": sig, "nonce": request_id}, queue)
        if str(reply.get("code")) != "0":
            raise AuthenticationFailed("the exchange refused the WebSocket login", code=str(reply.get("code")))

    async def _subscribe(self, ws: aiohttp.ClientWebSocketResponse, queue: asyncio.Queue[OrderUpdate]) -> None:
        request_id = self._next_id()
        reply = await self._request(ws, {"id": request_id, "method": "subscribe",
                                         "params": {"channels": self.channels}, "nonce": request_id}, queue)
        code = str(reply.get("code"))
        if code != "0" and len(self.channels) > 1:
            # An exchange without the advanced channel: user.order alone, the advanced legs' changes
            # then come from polling.
            log.warning("the exchange refused the %s subscription (code %s); following %s only",
                        ADVANCED_CHANNEL, code, ORDER_CHANNEL)
            self.channels = [ORDER_CHANNEL]
            await self._subscribe(ws, queue)
            return
        if code != "0":
            raise ExchangeError("the exchange refused the user.order subscription", code=code)

    async def _handle(self, ws: aiohttp.ClientWebSocketResponse, text: str,
                      queue: asyncio.Queue[OrderUpdate]) -> dict[str, Any] | None:
        try:
            data = json.loads(text, parse_float=Decimal)    # prices and quantities stay exact
        except ValueError:
            log.warning("order stream: a message that is not JSON was ignored")
            return None
        if not isinstance(data, dict):
            return None
        if data.get("method") == "public/heartbeat":
            await ws.send_str(json.dumps({"id": data.get("id"), "method": "public/respond-heartbeat"}))
            self.heartbeats_answered += 1
            return data
        result = data.get("result")
        if isinstance(result, dict) and str(result.get("channel") or result.get("subscription") or "") \
                .startswith(ORDER_CHANNELS):
            for item in result.get("data") or []:
                self._offer(item, queue, "stream")
        return data

    def _offer(self, item: Any, queue: asyncio.Queue[OrderUpdate], source: str) -> None:
        if isinstance(item, Order):
            order = item
        else:
            try:
                order = parse_order(item)
            except (ValueError, KeyError, TypeError):
                log.warning("order stream: an order object that could not be read was ignored")
                return
        order = self._canonical(order)
        if self.tracker.changed(order):
            queue.put_nowait(OrderUpdate(order, received_at=datetime.now(UTC), source=source))

    async def _poll(self, queue: asyncio.Queue[OrderUpdate]) -> None:
        """One polling round. A failure is logged and the next round tries again."""
        try:
            listed = await self._open_orders()
            listed_ids = {order.order_id for order in listed}
            for order in listed:
                self._offer(order, queue, "poll")
                self.expected.pop(order.order_id, None)
            for order_id in [oid for oid in {**self.tracker.open, **self.expected} if oid not in listed_ids]:
                found = await self._detail(order_id)
                self.expected.pop(order_id, None)
                if found is None:
                    # Gone without a trace (history is kept ~6 months): stop asking every round.
                    self.tracker.open.pop(order_id, None)
                else:
                    self._offer(found, queue, "poll")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("order polling failed (%s: %s); trying again", type(exc).__name__, exc)
