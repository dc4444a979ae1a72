"""The exchange's circuit breaker: repeated 5xx, timeouts or 42901 storms stop the writes, slow the
reads down (one jittered probe at a time), tell the user once, show on /healthz and /metrics, and
close by themselves when the exchange answers again. Driven by the simulator's fault injection."""

from __future__ import annotations

import asyncio
import json
import random
from decimal import Decimal

import pytest
from aiohttp import ClientSession

from bot.compose import build_application
from bot.domain.orders import OrderType, Side
from bot.exchange.base import OrderRequest
from bot.exchange.errors import ExchangeUnavailable, InsufficientFunds, RateLimited
from bot.services.circuit import CircuitBreaker, CircuitOpen
from bot.settings import load_settings
from tests.app.test_application import ALLOWED, telegram_emulator
from tests.clocks import SetClock
from tests.services.sim_exchange import simulated_exchange
from tests.services.sync_harness import eventually

D = Decimal


def test_it_opens_after_failures_in_a_row_and_an_answer_resets_the_count() -> None:
    clock = SetClock(100.0)
    breaker = CircuitBreaker(failures=3, retry_s=10, clock=clock, rng=random.Random(1))
    down = ExchangeUnavailable("HTTP 503")
    assert not breaker.failed(down) and not breaker.failed(down)
    assert breaker.succeeded() is False                           # closed: nothing to announce
    assert breaker.in_a_row == 0
    assert not breaker.failed(down) and not breaker.failed(down)
    assert breaker.failed(RateLimited("too many requests", code="42901"))      # the third in a row
    assert breaker.state == "open" and breaker.last_failure == "code 42901"
    with pytest.raises(CircuitOpen):
        breaker.before("create_order")
    with pytest.raises(CircuitOpen):
        breaker.before("balances")                                # reads wait for the probe time


def test_one_probe_at_a_time_with_jittered_doubling_waits_then_it_closes() -> None:
    clock = SetClock(100.0)
    breaker = CircuitBreaker(failures=1, retry_s=10, max_retry_s=40, jitter=0.5, clock=clock, rng=random.Random(7))
    assert breaker.failed(ExchangeUnavailable("timeout"))
    waits = []
    for _ in range(4):
        wait = breaker.retry_at - clock.now
        waits.append(wait)
        clock.now = breaker.retry_at
        breaker.before("balances")                                # the probe goes
        with pytest.raises(CircuitOpen):
            breaker.before("tickers")                             # others wait for it
        with pytest.raises(CircuitOpen):
            breaker.before("create_order")                        # writes never go while not closed
        assert breaker.failed(ExchangeUnavailable("timeout")) is False       # re-opened quietly
    nominal = [10, 20, 40, 40]
    assert all(0.75 * n <= w <= 1.25 * n for w, n in zip(waits, nominal, strict=True))
    assert len({round(w / n, 6) for w, n in zip(waits, nominal, strict=True)}) > 1   # jittered
    clock.now = breaker.retry_at
    breaker.before("balances")
    assert breaker.succeeded() is True and breaker.state == "closed"
    breaker.before("create_order")


def test_a_refusal_is_an_answer() -> None:
    breaker = CircuitBreaker(failures=2)
    breaker.failed(ExchangeUnavailable("HTTP 502"))
    breaker.succeeded()                  # e.g. InsufficientFunds came back: the exchange is there
    assert not breaker.failed(ExchangeUnavailable("HTTP 502")) and breaker.state == "closed"
    assert not isinstance(InsufficientFunds("x"), ExchangeUnavailable)


@pytest.mark.parametrize("fault", ["http", "rate_limit"])
async def test_an_outage_stops_writes_tells_once_shows_on_healthz_and_recovers_by_itself(
        db, aiohttp_server, monkeypatch, fault: str) -> None:
    emulator = await telegram_emulator(db, aiohttp_server, monkeypatch)
    monkeypatch.setenv("EXCHANGE_CIRCUIT_FAILURES", "3")
    monkeypatch.setenv("EXCHANGE_CIRCUIT_RETRY_SECONDS", "0.3")
    async with simulated_exchange({"USDT": D(100000)}) as exchange:
        app = await build_application(load_settings(), exchange=exchange.adapter)
        await app.start()
        try:
            await emulator.wait_for_call("getUpdates")
            sim = exchange.sim
            if fault == "http":
                sim.faults.fail_http(None, 503, times=None)              # every request: 503
            else:
                sim.faults.force_code(None, "42901", times=None)         # a 42901 storm
            for _ in range(3):
                with pytest.raises((ExchangeUnavailable, RateLimited)):
                    await app.exchange.balances()
            breaker = app.exchange.breaker
            assert breaker.state == "open"

            # Writes stop: nothing reaches the exchange.
            before = len(sim.calls)
            with pytest.raises(CircuitOpen):
                await app.exchange.create_order(OrderRequest(
                    symbol="BTC_USDT", side=Side.BUY, order_type=OrderType.LIMIT, client_oid="while-open",
                    quantity=D("0.01"), price=D(90000)))
            # Reads back off: refused at once until the probe time.
            with pytest.raises(CircuitOpen):
                await app.exchange.balances()
            assert len(sim.calls) == before

            async def health() -> tuple[int, dict]:
                async with ClientSession() as session, session.get(f"{app.web_url}/healthz") as response:
                    return response.status, json.loads(await response.text())

            status, report = await health()
            assert status == 503 and report["exchange_circuit"]["state"] in ("open", "half_open")
            assert "cryptobot_exchange_circuit_open 1.0" in app.metrics.exposition().decode()

            # Failed probes (jittered, doubling) re-open it without a second message.
            for _ in range(3):
                await asyncio.sleep(breaker.retry_at - breaker.clock() + 0.01)
                with pytest.raises((ExchangeUnavailable, RateLimited)):
                    await app.exchange.balances()
            assert breaker.openings == 1

            sim.faults.clear()                                           # the exchange is back
            await asyncio.sleep(max(0.0, breaker.retry_at - breaker.clock()) + 0.01)
            await app.exchange.balances()                                # the probe succeeds
            assert breaker.state == "closed"
            await app.exchange.create_order(OrderRequest(
                symbol="BTC_USDT", side=Side.BUY, order_type=OrderType.LIMIT, client_oid="after",
                quantity=D("0.01"), price=D(90000)))
            status, report = await health()
            assert report["exchange_circuit"]["state"] == "closed"

            def texts_now() -> list[str]:
                return [str(m.get("text", "")) for m in emulator.bot_messages(ALLOWED)]

            async def told_both() -> bool:
                return any("answers again" in t for t in texts_now())

            await eventually(told_both, timeout=10)
            texts = texts_now()
        finally:
            await app.shutdown()
    assert sum("The exchange is not answering" in t for t in texts) == 1
    assert sum("The exchange answers again" in t for t in texts) == 1
    opened = next(t for t in texts if "not answering" in t)
    assert "3 requests in a row failed" in opened
    assert ("code 42901" in opened) if fault == "rate_limit" else ("code" not in opened)
