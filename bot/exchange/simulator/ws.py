"""The simulator's user WebSocket (/exchange/v1/user), as section 9 of the protocol notes describes:
`public/auth` once per connection, `public/heartbeat` every `heartbeat_seconds` that must be
answered with `public/respond-heartbeat` (same id) within `heartbeat_timeout_seconds` or the server
closes with 1000, user channels (`user.order`, `user.trade`, `user.balance`, `user.advance.order`)
whose pushes carry id -1, and private requests after auth without a signature. Advanced orders
(triggers and list legs) change on `user.advance.order`; `user.order` carries the others, and the
advanced ones too only with `mirror_advanced_on_user_order`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from bot.exchange.codes import name_of
from bot.exchange.simulator import pipeline
from bot.exchange.simulator.core import ADVANCED_CHANNEL, ORDER_CHANNEL, Refusal, Simulator
from bot.exchange.simulator.methods import user_balance
from bot.exchange.simulator.wire import is_advanced

log = logging.getLogger(__name__)

CHANNELS = frozenset({ORDER_CHANNEL, "user.trade", "user.balance", ADVANCED_CHANNEL})
MAX_SUBSCRIPTIONS = 400


@dataclass(eq=False)
class UserSocket:
    ws: web.WebSocketResponse
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    subscriptions: set[str] = field(default_factory=set)
    api_key: str | None = None
    heartbeat_id: int | None = None
    heartbeat_answered: asyncio.Event = field(default_factory=asyncio.Event)

    def send(self, message: dict[str, Any]) -> None:
        self.queue.put_nowait(message)


def _family(channel: str) -> str | None:
    for family in CHANNELS:
        if channel == family or channel.startswith(family + "."):
            return family
    return None


class UserSocketHub:
    def __init__(self, simulator: Simulator) -> None:
        self.sim = simulator
        self.sockets: set[UserSocket] = set()
        self._balance_push_pending = False
        simulator.listeners.append(self._publish)

    # --- pushes from the engine ---------------------------------------------------------------

    def _publish(self, channel: str, instrument: str, data: dict[str, Any]) -> None:
        label = self.sim.config.advanced_channel_label if channel == ADVANCED_CHANNEL else channel
        for sock in list(self.sockets):
            for subscription in sock.subscriptions:
                if subscription in (channel, f"{channel}.{instrument}"):
                    self._deliver(sock, {"id": -1, "method": "subscribe", "code": 0, "result": {
                        "instrument_name": instrument, "subscription": subscription.replace(channel, label, 1),
                        "channel": label, "data": [data]}})
        if channel in (ORDER_CHANNEL, ADVANCED_CHANNEL) and not self._balance_push_pending:
            self._balance_push_pending = True
            asyncio.get_running_loop().call_soon(self._push_balance)

    def _deliver(self, sock: UserSocket, message: dict[str, Any]) -> None:
        delay = self.sim.config.ack_delay_seconds
        if delay > 0:
            asyncio.get_running_loop().call_later(delay, sock.send, message)
        else:
            sock.send(message)

    def _push_balance(self) -> None:
        self._balance_push_pending = False
        subscribers = [s for s in self.sockets if "user.balance" in s.subscriptions]
        if subscribers:
            data = user_balance(self.sim, {})["data"]
            for sock in subscribers:
                self._deliver(sock, {"id": -1, "method": "subscribe", "code": 0, "result": {
                    "subscription": "user.balance", "channel": "user.balance", "data": data}})

    async def close_all(self, *, code: int, reason: str) -> int:
        sockets = list(self.sockets)
        for sock in sockets:
            await sock.ws.close(code=code, message=reason.encode())
        return len(sockets)

    # --- one connection -----------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sock = UserSocket(ws)
        self.sockets.add(sock)
        tasks = [asyncio.create_task(self._writer(sock)), asyncio.create_task(self._heartbeat(sock))]
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    request_body = json.loads(message.data)
                except ValueError:
                    sock.send({"id": -1, "method": "ERROR", "code": 40001, "message": "BAD_REQUEST"})
                    continue
                if isinstance(request_body, dict):
                    await self._on_message(sock, request_body)
        finally:
            self.sockets.discard(sock)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return ws

    async def _writer(self, sock: UserSocket) -> None:
        while not sock.ws.closed:
            message = await sock.queue.get()
            try:
                await sock.ws.send_str(json.dumps(message))
            except ConnectionError:
                return

    async def _heartbeat(self, sock: UserSocket) -> None:
        config = self.sim.config
        while not sock.ws.closed:
            await asyncio.sleep(config.heartbeat_seconds)
            sock.heartbeat_id = self.sim.now_ms()
            sock.heartbeat_answered.clear()
            sock.send({"id": sock.heartbeat_id, "method": "public/heartbeat", "code": 0})
            try:
                await asyncio.wait_for(sock.heartbeat_answered.wait(), config.heartbeat_timeout_seconds)
            except TimeoutError:
                await sock.ws.close(code=1000, message=b"heartbeat not answered")
                return

    async def _on_message(self, sock: UserSocket, body: dict[str, Any]) -> None:
        request_id, method = body.get("id", -1), body.get("method")
        if method == "public/respond-heartbeat":
            if request_id == sock.heartbeat_id or str(request_id) == str(sock.heartbeat_id):
                sock.heartbeat_answered.set()
            return
        if method == "public/auth":
            sock.send(self._auth(sock, body))
            return
        if method in ("subscribe", "unsubscribe"):
            for message in self._subscription(sock, body):
                sock.send(message)
            return
        if not isinstance(method, str) or not method.startswith("private/"):
            sock.send({"id": request_id, "method": method or "ERROR", "code": 40002,
                       "message": name_of("40002")})
            return
        if sock.api_key is None:
            sock.send({"id": request_id, "method": method, "code": 40101, "message": name_of("40101")})
            return
        params: dict[str, Any] = body["params"] if isinstance(body.get("params"), dict) else {}
        answer = await pipeline.answer(self.sim, method, params, transport="ws", key=f"ws:{sock.api_key}",
                                       nonce=body.get("nonce"))
        sock.send(answer.body(request_id, method))

    def _auth(self, sock: UserSocket, body: dict[str, Any]) -> dict[str, Any]:
        request_id = body.get("id", -1)
        try:
            self.sim.check_nonce(body.get("nonce"))
            key = self.sim.check_key("public/auth", body, {})
        except Refusal as refusal:
            self.sim.record("public/auth", {}, refusal.code, "ws")
            return self.sim.refusal(refusal.code, refusal.detail).body(request_id, "public/auth")
        sock.api_key = key
        self.sim.record("public/auth", {}, "0", "ws")
        return {"id": request_id, "method": "public/auth", "code": 0}

    def _subscription(self, sock: UserSocket, body: dict[str, Any]) -> list[dict[str, Any]]:
        request_id, method = body.get("id", -1), str(body.get("method"))
        params = body.get("params") if isinstance(body.get("params"), dict) else {}
        channels = params.get("channels") if isinstance(params, dict) else None
        if not isinstance(channels, list) or not channels:
            return [{"id": request_id, "method": method, "code": 40004, "message": "channels required"}]
        if sock.api_key is None:
            return [{"id": request_id, "method": method, "code": 40101, "message": name_of("40101")}]
        if method == "unsubscribe":
            sock.subscriptions.difference_update(str(c) for c in channels)
            return [{"id": request_id, "method": method, "code": 0}]
        bad = [c for c in channels if _family(str(c)) is None]
        if bad:
            return [{"id": request_id, "method": method, "code": 10004, "message": f"invalid channel {bad[0]}"}]
        if len(sock.subscriptions | {str(c) for c in channels}) > MAX_SUBSCRIPTIONS:
            return [{"id": request_id, "method": method, "code": 40107, "message": "EXCEED_MAX_SUBSCRIPTIONS"}]
        replies: list[dict[str, Any]] = [{"id": request_id, "method": method, "code": 0}]
        for channel in map(str, channels):
            sock.subscriptions.add(channel)
            family = _family(channel)
            if family == ORDER_CHANNEL:
                # The first data message carries the subscribe id and the current open orders (the
                # advanced ones only where they are mirrored on this channel).
                instrument = channel[len("user.order."):] or None
                mirror = self.sim.config.mirror_advanced_on_user_order
                orders = [self.sim.wire_order(o) for o in self.sim.engine.open_orders(instrument)
                          if mirror or not is_advanced(o)]
                replies.append({"id": request_id, "method": method, "code": 0, "result": {
                    "subscription": channel, "channel": family, "data": orders}})
        return replies
