"""The simulator's HTTP front: REST under /exchange/v1/{method}, the user WebSocket at
/exchange/v1/user, and a small control API under /_sim/ (prices, faults, recorded calls) so a
test in another process, or a person trying the bot, can move the market and break things.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from bot.exchange.codes import http_status
from bot.exchange.simulator import pipeline
from bot.exchange.simulator.core import Answer, Refusal, Simulator
from bot.exchange.simulator.ws import UserSocketHub

log = logging.getLogger(__name__)

API_PREFIX = "/exchange/v1"


@dataclass(frozen=True)
class Endpoints:
    base_url: str                 # http://127.0.0.1:PORT

    @property
    def rest_url(self) -> str:
        return f"{self.base_url}{API_PREFIX}"

    @property
    def ws_url(self) -> str:
        return f"{self.base_url.replace('http://', 'ws://', 1)}{API_PREFIX}/user"


@contextlib.asynccontextmanager
async def serving(server: SimulatorServer, *, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[Endpoints]:
    """The server listening on host:port (0: a free port) until the block ends."""
    runner = web.AppRunner(server.app(), handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = site._server.sockets if site._server is not None else []  # type: ignore[attr-defined]
    bound = sockets[0].getsockname()[1] if sockets else port
    try:
        yield Endpoints(f"http://{host}:{bound}")
    finally:
        await runner.cleanup()


class SimulatorServer:
    def __init__(self, simulator: Simulator) -> None:
        self.sim = simulator
        self.hub = UserSocketHub(simulator)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(f"{API_PREFIX}/user", self.hub.handle)
        app.router.add_route("*", f"{API_PREFIX}/{{method:(public|private)/.+}}", self.rest)
        app.router.add_post("/_sim/price", self.control_price)
        app.router.add_post("/_sim/faults", self.control_add_fault)
        app.router.add_delete("/_sim/faults", self.control_clear_faults)
        app.router.add_get("/_sim/calls", self.control_calls)
        app.router.add_get("/_sim/state", self.control_state)
        app.router.add_post("/_sim/drop-websockets", self.control_drop_websockets)
        app.on_shutdown.append(self._on_shutdown)
        return app

    async def _on_shutdown(self, app: web.Application) -> None:
        await self.hub.close_all(code=1001, reason="server shutting down")

    # --- REST ----------------------------------------------------------------------------------

    async def rest(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if method.startswith("public/"):
            params = dict(request.query)
            answer = await pipeline.answer(self.sim, method, params, transport="rest", key=f"ip:{request.remote}")
            return await self._respond(request, -1, method, answer)
        try:
            body = json.loads(await request.text())
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            return await self._respond(request, -1, method, self.sim.refusal("40001", "the body is not a JSON object"))
        request_id = body.get("id", -1)
        try:
            signed_method, params = self.sim.check_signed(body)
            if signed_method != method:
                raise Refusal("40003", f"body method {signed_method} does not match the path {method}")
        except Refusal as refusal:
            params = body["params"] if isinstance(body.get("params"), dict) else {}
            self.sim.record(method, params, refusal.code, "rest")
            return await self._respond(request, request_id, method, self.sim.refusal(refusal.code, refusal.detail))
        answer = await pipeline.answer(self.sim, method, params, transport="rest", key=str(body["api_key"]),
                                       nonce=body.get("nonce"))
        return await self._respond(request, request_id, method, answer)

    async def _respond(self, request: web.Request, request_id: Any, method: str, answer: Answer) -> web.StreamResponse:
        if answer.http_status is not None:
            return web.Response(status=answer.http_status, text="Service Unavailable (injected)")
        if answer.drop and request.transport is not None:
            # Done, but the answer never arrives: the client cannot tell whether it happened.
            request.transport.abort()
            raise asyncio.CancelledError
        if answer.garble is not None:
            return await self._garbled(request, json.dumps(answer.body(request_id, method)), answer)
        return web.json_response(answer.body(request_id, method), status=http_status(answer.code))

    @staticmethod
    async def _garbled(request: web.Request, text: str, answer: Answer) -> web.StreamResponse:
        """Done, but what comes back is not the exchange's answer."""
        if answer.garble == "html":
            return web.Response(status=answer.garble_status, content_type="text/html",
                                text="<html><body><h1>502 Bad Gateway</h1></body></html>")
        if answer.garble == "truncated":
            return web.Response(status=answer.garble_status, content_type="application/json",
                                text=text[: len(text) // 2])
        # "reset": the headers promise the whole body, half of it comes, then the connection goes.
        response = web.StreamResponse(status=answer.garble_status, headers={"Content-Type": "application/json"})
        response.content_length = len(text.encode())
        await response.prepare(request)
        await response.write(text.encode()[: len(text) // 2])
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError

    # --- control API --------------------------------------------------------------------------

    async def control_price(self, request: web.Request) -> web.Response:
        data = await request.json()
        symbol = str(data.get("symbol", ""))
        if symbol not in self.sim.engine.instruments:
            return web.json_response({"error": f"unknown symbol {symbol!r}"}, status=400)
        try:
            price = Decimal(str(data.get("price")))
        except InvalidOperation:
            return web.json_response({"error": "price must be a decimal number"}, status=400)
        changed = self.sim.set_price(symbol, price)
        return web.json_response({"symbol": symbol, "price": str(price), "changed_orders": len(changed)})

    async def control_add_fault(self, request: web.Request) -> web.Response:
        data = await request.json()
        kind, method = data.get("kind"), data.get("method")
        times = data.get("times", 1)
        faults = self.sim.faults
        if kind == "latency":
            faults.latency(method, float(data.get("seconds", 1)), times)
        elif kind == "http":
            faults.fail_http(method, int(data.get("status", 503)), times)
        elif kind == "code":
            faults.force_code(method, str(data.get("code")), times)
        elif kind == "drop":
            faults.drop(method, times)
        elif kind == "garble":
            try:
                faults.garble(method, str(data.get("style", "truncated")), times, data.get("status"))
            except ValueError as exc:
                return web.json_response({"error": str(exc)}, status=400)
        else:
            return web.json_response({"error": "kind is one of latency, http, code, drop, garble"}, status=400)
        return web.json_response({"faults": faults.describe()})

    async def control_clear_faults(self, request: web.Request) -> web.Response:
        self.sim.faults.clear()
        return web.json_response({"faults": []})

    async def control_calls(self, request: web.Request) -> web.Response:
        wanted = request.query.get("method")
        calls = [{"method": c.method, "params": c.params, "code": c.code, "transport": c.transport,
                  "at_ns": c.at_ns} for c in self.sim.calls if wanted in (None, c.method)]
        return web.json_response({"calls": calls})

    async def control_state(self, request: web.Request) -> web.Response:
        engine = self.sim.engine
        return web.json_response({
            "balances": {a: {"total": str(t), "locked": str(lk)} for a, (t, lk) in engine.balances().items()},
            "prices": {s: str(p) for s in engine.instruments if (p := engine.last_price(s)) is not None},
            "open_orders": len(engine.open_orders()), "websockets": len(self.hub.sockets)})

    async def control_drop_websockets(self, request: web.Request) -> web.Response:
        dropped = await self.hub.close_all(code=1013, reason="server restarting")
        return web.json_response({"dropped": dropped})
