"""The second half of a request's way through the simulator, after the envelope and key checks of
`core.Simulator`: injected faults -> rate limit (42901) -> the method (engine codes) -> answer,
recorded. REST (server.py) and WebSocket (ws.py) requests both come through here."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.exchange.engine import EngineReject
from bot.exchange.simulator.core import Answer, Refusal, Simulator
from bot.exchange.simulator.faults import ActiveFaults
from bot.exchange.simulator.methods import METHODS


async def answer(sim: Simulator, method: str, params: dict[str, Any], *, transport: str, key: str,
                 nonce: Any = None) -> Answer:
    """Faults, rate limit and the method itself, recorded. Envelope checks happened before."""
    faults = sim.faults.take(method)
    if faults.latency:
        await asyncio.sleep(faults.latency)
    # Without a client_oid the exchange uses the request's nonce (which is why we always send one).
    given = {**params, "_nonce": nonce} if nonce is not None else params
    reply = _answer_now(sim, method, given, faults, key)
    sim.record(method, params, reply.code if reply.http_status is None else f"HTTP {reply.http_status}", transport)
    return reply


def _answer_now(sim: Simulator, method: str, params: dict[str, Any], faults: ActiveFaults, key: str) -> Answer:
    if faults.http_status is not None:
        return Answer("-1", http_status=faults.http_status)
    if faults.code is not None:
        return sim.refusal(faults.code, faults.message or "injected")
    if not sim.limiter.allow(key, method):
        return sim.refusal("42901", f"{method} over its rate limit")
    handler = METHODS.get(method)
    if handler is None:
        return sim.refusal("40002", f"unknown method {method}")
    try:
        result = handler(sim, params)
    except Refusal as refusal:
        return sim.refusal(refusal.code, refusal.detail)
    except EngineReject as reject:
        return sim.refusal(reject.code, reject.message)
    return Answer("0", result, drop=faults.drop, garble=faults.garble, garble_status=faults.garble_status)
