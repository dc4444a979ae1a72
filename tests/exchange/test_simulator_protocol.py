"""The crypto.com v1 simulator speaks the protocol: signatures, nonces, codes, limits, paging,
asynchronous acknowledgements on the user WebSocket, heartbeats, and injected faults."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from bot.devtools.simulator_harness import SimulatorHandle, running_simulator
from bot.exchange.simulator import SimulatorConfig
from bot.exchange.v1_signing import signature
from tests.exchange.v1_client import V1Client

D = Decimal


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorHandle]:
    async with running_simulator(SimulatorConfig(balances={"USDT": D(100000), "BTC": D(1)})) as handle:
        yield handle


@pytest.fixture
async def client(sim: SimulatorHandle) -> AsyncIterator[V1Client]:
    client = V1Client(sim.rest_url, sim.api_key, sim.api_secret)
    yield client
    await client.close()


def limit_buy(client_oid: str, price: str = "90000", quantity: str = "0.001", **extra: Any) -> dict[str, Any]:
    return {"instrument_name": "BTC_USDT", "side": "BUY", "type": "LIMIT", "price": price, "quantity": quantity,
            "client_oid": client_oid, **extra}


async def test_a_wrong_signature_is_refused_with_40101(client: V1Client, sim: SimulatorHandle) -> None:
    status, body = await client.private("private/user-balance", secret="not-the-secret")
    assert (status, body["code"], body["message"]) == (401, 40101, "UNAUTHORIZED")


async def test_a_nonce_more_than_60_s_away_is_refused_with_40102(client: V1Client) -> None:
    status, body = await client.private("private/user-balance", nonce=time.time_ns() // 1_000_000 - 61_000)
    assert (status, body["code"]) == (400, 40102)
    status, body = await client.private("private/user-balance", nonce=time.time_ns() // 1_000_000 - 50_000)
    assert (status, body["code"]) == (200, 0)


async def test_a_request_without_params_is_invalid(client: V1Client) -> None:
    status, body = await client.private("private/user-balance", drop_params=True)
    assert (status, body["code"]) == (400, 40003)


async def test_a_trigger_type_on_create_order_answers_140001_and_places_nothing(client: V1Client,
                                                                                  sim: SimulatorHandle) -> None:
    status, body = await client.private("private/create-order", {
        "instrument_name": "BTC_USDT", "side": "SELL", "type": "STOP_LOSS", "quantity": "0.1",
        "ref_price": "95000", "client_oid": "sl-1"})
    assert (status, body["code"]) == (500, 140001)
    assert sim.engine.get(client_oid="sl-1") is None
    placed = await client.ok("private/advanced/create-order", {
        "instrument_name": "BTC_USDT", "side": "SELL", "type": "STOP_LOSS", "quantity": "0.1",
        "ref_price": "95000", "ref_price_type": "MARK_PRICE", "client_oid": "sl-1"})
    assert placed["client_oid"] == "sl-1"
    detail = await client.ok("private/advanced/get-order-detail", {"client_oid": "sl-1"})
    assert (detail["status"], detail["order_type"], detail["ref_price"]) == ("PENDING", "STOP_LOSS", "95000")


@pytest.mark.parametrize(("params", "code", "status"), [
    (limit_buy("a", instrument_name="NOPE_USDT"), 209, 400),
    (limit_buy("a", side="HOLD"), 220, 400),
    (limit_buy("a", quantity="0.0000001"), 213, 400),
    (limit_buy("a", price="90000.001"), 308, 400),
    (limit_buy("a", quantity="50"), 306, 500),
    (limit_buy("a", price="10", quantity="0.00001"), 415, 500),
    (limit_buy("a", time_in_force="SOMETIMES"), 221, 400),
    (limit_buy("a", type="ICEBERG"), 218, 400),
], ids=["instrument", "side", "quantity_step", "price_tick", "balance", "min_notional", "tif", "type"])
async def test_order_validation_answers_the_real_codes(client: V1Client, sim: SimulatorHandle,
                                                       params: dict[str, Any], code: int, status: int) -> None:
    answer_status, body = await client.private("private/create-order", params)
    assert (answer_status, body["code"]) == (status, code), body
    assert sim.engine.open_orders() == []


async def test_a_trigger_on_the_wrong_side_of_the_market_is_229(client: V1Client) -> None:
    status, body = await client.private("private/advanced/create-order", {
        "instrument_name": "BTC_USDT", "side": "SELL", "type": "STOP_LOSS", "quantity": "0.1",
        "ref_price": "105000", "ref_price_type": "MARK_PRICE", "client_oid": "sl-up"})
    assert (status, body["code"]) == (400, 229)


async def test_duplicate_client_oid_is_204_and_dead_orders_are_316_or_212(client: V1Client) -> None:
    await client.ok("private/create-order", limit_buy("dup"))
    status, body = await client.private("private/create-order", limit_buy("dup"))
    assert (status, body["code"]) == (400, 204)
    await client.ok("private/cancel-order", {"client_oid": "dup"})
    status, body = await client.private("private/cancel-order", {"client_oid": "dup"})
    assert (status, body["code"]) == (500, 316)
    status, body = await client.private("private/cancel-order", {"order_id": "42"})
    assert (status, body["code"]) == (500, 212)
    status, body = await client.private("private/get-order-detail", {"order_id": "42"})
    assert body["code"] == 40401


async def test_the_open_order_cap_is_318() -> None:
    async with running_simulator(SimulatorConfig(max_open_per_symbol=2)) as sim:
        client = V1Client(sim.rest_url, sim.api_key, sim.api_secret)
        try:
            for n in range(2):
                await client.ok("private/create-order", limit_buy(f"cap-{n}", price=str(90000 - n)))
            status, body = await client.private("private/create-order", limit_buy("cap-2", price="89000"))
            assert (status, body["code"]) == (400, 318)
        finally:
            await client.close()


async def test_order_history_is_limited_to_one_request_a_second(client: V1Client, sim: SimulatorHandle) -> None:
    await client.ok("private/get-order-history", {})
    status, body = await client.private("private/get-order-history", {})
    assert (status, body["code"], body["message"]) == (429, 42901, "TOO_MANY_REQUESTS")
    await asyncio.sleep(1.0)
    await client.ok("private/get-order-history", {})


async def test_order_history_pages_newest_first_with_an_exclusive_end(client: V1Client,
                                                                      sim: SimulatorHandle) -> None:
    now = time.time_ns()
    sim.seed_history(250, start_ns=now - 3_600 * 10**9, end_ns=now - 10**9)
    seen: list[str] = []
    end = now
    while True:
        page = (await client.ok("private/get-order-history", {
            "start_time": str(now - 7_200 * 10**9), "end_time": str(end), "limit": "100"}))["data"]
        times = [int(o["create_time_ns"]) for o in page]
        assert times == sorted(times, reverse=True)
        seen += [o["order_id"] for o in page]
        if len(page) < 100:
            break
        end = times[-1]
        await asyncio.sleep(1.0)          # the real limit: one history request a second
    assert len(seen) == len(set(seen)) == 250
    assert {o.status.value for o in sim.engine.history(start_ns=0, end_ns=now, limit=300)} == {"FILLED", "CANCELED"}
    await asyncio.sleep(1.0)
    _status, body = await client.private("private/get-order-history", {"limit": "101"})
    assert body["code"] == 40004


async def test_the_default_history_window_is_the_last_day(client: V1Client, sim: SimulatorHandle) -> None:
    now = time.time_ns()
    sim.seed_history(2, start_ns=now - 3 * 86_400 * 10**9, end_ns=now - 86_400 * 10**9 - 3_600 * 10**9)
    sim.seed_history(1, start_ns=now - 3_600 * 10**9, end_ns=now - 10**9)
    assert len((await client.ok("private/get-order-history", {}))["data"]) == 1


# --- asynchronous acknowledgements on the user WebSocket -------------------------------------------


class UserSocket:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def request(self, body: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(body))

    async def next(self, predicate: Any = lambda m: True, timeout: float = 3.0) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                message = await self.ws.receive()
                if message.type != aiohttp.WSMsgType.TEXT:
                    raise ConnectionError(f"socket closed: {message.type} {self.ws.close_code}")
                data = json.loads(message.data)
                if data.get("method") == "public/heartbeat":
                    await self.request({"id": data["id"], "method": "public/respond-heartbeat"})
                    continue
                if predicate(data):
                    return data

    async def auth(self, sim: SimulatorHandle) -> dict[str, Any]:
        nonce = time.time_ns() // 1_000_000
        await self.request({"id": nonce, "method": "public/auth", "api_key": sim.api_key, "nonce": nonce,
                            "sig": signature(sim.api_secret, "public/auth", nonce, sim.api_key, {}, nonce)})
        return await self.next(lambda m: m.get("method") == "public/auth")


@pytest.fixture
async def user_socket(sim: SimulatorHandle) -> AsyncIterator[UserSocket]:
    async with aiohttp.ClientSession() as session, session.ws_connect(sim.ws_url) as ws:
        yield UserSocket(ws)


def pushed_order(message: dict[str, Any]) -> dict[str, Any] | None:
    result = message.get("result") or {}
    if message.get("id") == -1 and result.get("channel") == "user.order":
        return result["data"][0]  # type: ignore[no-any-return]
    return None


async def test_an_order_is_acknowledged_then_its_changes_arrive_on_user_order(
        client: V1Client, sim: SimulatorHandle, user_socket: UserSocket) -> None:
    await client.ok("private/create-order", limit_buy("early", price="80000"))
    assert (await user_socket.auth(sim))["code"] == 0
    await user_socket.request({"id": 7, "method": "subscribe", "params": {"channels": ["user.order"]}})
    assert (await user_socket.next(lambda m: m.get("id") == 7))["code"] == 0
    snapshot = await user_socket.next(lambda m: m.get("id") == 7 and "result" in m)
    assert [o["client_oid"] for o in snapshot["result"]["data"]] == ["early"]     # the open orders

    ack = await client.ok("private/create-order", limit_buy("b1"))
    assert set(ack) == {"order_id", "client_oid"}                                # only an acknowledgement
    active = await user_socket.next(lambda m: (pushed_order(m) or {}).get("client_oid") == "b1")
    assert pushed_order(active)["status"] == "ACTIVE"  # type: ignore[index]
    sim.set_price("BTC_USDT", "89999")
    filled = await user_socket.next(lambda m: (pushed_order(m) or {}).get("status") == "FILLED")
    order = pushed_order(filled)
    assert order is not None and (order["client_oid"], order["cumulative_quantity"]) == ("b1", "0.001")


async def test_private_requests_on_the_socket_need_auth_first(sim: SimulatorHandle,
                                                              user_socket: UserSocket) -> None:
    await user_socket.request({"id": 1, "method": "private/get-open-orders", "params": {}})
    assert (await user_socket.next(lambda m: m.get("id") == 1))["code"] == 40101
    await user_socket.auth(sim)
    await user_socket.request({"id": 2, "method": "private/get-open-orders", "params": {}})
    reply = await user_socket.next(lambda m: m.get("id") == 2)
    assert (reply["code"], reply["result"]["data"]) == (0, [])


async def test_a_heartbeat_not_answered_within_the_timeout_closes_the_socket() -> None:
    config = SimulatorConfig(heartbeat_seconds=0.2, heartbeat_timeout_seconds=0.3)
    async with running_simulator(config) as sim, aiohttp.ClientSession() as session:
        async with session.ws_connect(sim.ws_url) as answering:
            socket = UserSocket(answering)
            await socket.auth(sim)
            with pytest.raises(TimeoutError):            # it answers heartbeats, so it stays open
                await socket.next(lambda m: False, timeout=1.0)
            assert not answering.closed
        async with session.ws_connect(sim.ws_url) as silent:
            first = json.loads((await silent.receive()).data)
            assert first["method"] == "public/heartbeat"
            closing = await silent.receive(timeout=2.0)
            assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            assert silent.close_code == 1000


# --- advanced orders --------------------------------------------------------------------------------


async def test_a_native_oco_cancels_its_other_leg_when_one_fills(client: V1Client, sim: SimulatorHandle) -> None:
    result = await client.ok("private/advanced/create-oco", {"order_list": [
        {"instrument_name": "BTC_USDT", "side": "SELL", "type": "LIMIT", "price": "103000", "quantity": "0.5",
         "client_oid": "tp"},
        {"instrument_name": "BTC_USDT", "side": "SELL", "type": "STOP_LOSS", "ref_price": "97000",
         "ref_price_type": "MARK_PRICE", "quantity": "0.5", "client_oid": "sl"}]})
    assert set(result) == {"list_id"}
    legs = (await client.ok("private/advanced/get-order-list-detail", {"list_id_list": [result["list_id"]]}))["data"]
    assert {leg["client_oid"]: leg["status"] for leg in legs} == {"tp": "ACTIVE", "sl": "PENDING"}
    sim.set_price("BTC_USDT", "103500")
    tp = await client.ok("private/advanced/get-order-detail", {"client_oid": "tp"})
    sl = await client.ok("private/advanced/get-order-detail", {"client_oid": "sl"})
    assert (tp["status"], sl["status"]) == ("FILLED", "CANCELED")


async def test_otoco_exit_legs_wait_for_the_entry(client: V1Client, sim: SimulatorHandle) -> None:
    await client.ok("private/advanced/create-otoco", {"order_list": [
        {"instrument_name": "BTC_USDT", "side": "SELL", "type": "STOP_LOSS", "ref_price": "87300",
         "ref_price_type": "MARK_PRICE", "quantity": "0.01", "client_oid": "o-sl"},
        {"instrument_name": "BTC_USDT", "side": "BUY", "type": "LIMIT", "price": "90000", "quantity": "0.01",
         "client_oid": "o-entry"},
        {"instrument_name": "BTC_USDT", "side": "SELL", "type": "TAKE_PROFIT_LIMIT", "ref_price": "92700",
         "ref_price_type": "MARK_PRICE", "price": "92700", "quantity": "0.01", "client_oid": "o-tp"}]})
    sim.set_price("BTC_USDT", "92800")            # through the TP level before the entry filled: nothing
    assert (await client.ok("private/advanced/get-order-detail", {"client_oid": "o-tp"}))["status"] == "PENDING"
    sim.set_price("BTC_USDT", "89990")            # the entry fills; the exits go live
    assert (await client.ok("private/get-order-detail", {"client_oid": "o-entry"}))["status"] == "FILLED"
    sim.set_price("BTC_USDT", "87000")            # the stop fires; the take-profit is cancelled
    sl = await client.ok("private/advanced/get-order-detail", {"client_oid": "o-sl"})
    tp = await client.ok("private/advanced/get-order-detail", {"client_oid": "o-tp"})
    assert (sl["status"], tp["status"]) == ("FILLED", "CANCELED")


# --- fault injection --------------------------------------------------------------------------------


async def test_an_injected_5xx_processes_nothing(client: V1Client, sim: SimulatorHandle) -> None:
    sim.faults.fail_http("private/create-order", status=503)
    status, body = await client.private("private/create-order", limit_buy("during-5xx"))
    assert (status, body["code"]) == (503, None)
    assert sim.engine.get(client_oid="during-5xx") is None
    await client.ok("private/create-order", limit_buy("after-5xx"))
    assert len(sim.engine.open_orders()) == 1


async def test_a_dropped_answer_still_placed_the_order(client: V1Client, sim: SimulatorHandle) -> None:
    sim.faults.drop("private/create-order")
    with pytest.raises(aiohttp.ClientError):
        await client.private("private/create-order", limit_buy("lost-answer"))
    detail = await client.ok("private/get-order-detail", {"client_oid": "lost-answer"})
    assert detail["status"] == "ACTIVE"


async def test_a_forced_code_and_latency_apply_to_the_chosen_method_only(client: V1Client,
                                                                         sim: SimulatorHandle) -> None:
    sim.faults.force_code("private/advanced/create-oco", "40002", times=None)
    sim.faults.latency("private/user-balance", 0.3, times=1)
    _status, body = await client.private("private/advanced/create-oco", {"order_list": []})
    assert body["code"] == 40002
    started = time.monotonic()
    await client.ok("private/user-balance")
    assert time.monotonic() - started >= 0.3
    await client.ok("private/get-open-orders")
    assert [c.code for c in sim.calls_to("private/advanced/create-oco")] == ["40002"]


async def test_the_control_api_moves_the_market_and_sets_faults(client: V1Client, sim: SimulatorHandle) -> None:
    await client.ok("private/create-order", limit_buy("ctl", price="95000"))
    async with client.session.post(f"{sim.base_url}/_sim/price", json={"symbol": "BTC_USDT", "price": "94000"}) as r:
        assert (await r.json())["changed_orders"] == 1
    async with client.session.post(f"{sim.base_url}/_sim/faults",
                                   json={"kind": "code", "method": "private/user-balance", "code": 50001}) as r:
        assert r.status == 200
    _status, body = await client.private("private/user-balance")
    assert body["code"] == 50001
    assert (await client.ok("private/get-order-detail", {"client_oid": "ctl"}))["status"] == "FILLED"
