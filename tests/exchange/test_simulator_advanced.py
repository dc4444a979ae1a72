"""The simulator behaves as the 2026 reference says for advanced orders, where it used to hide gaps:
their own channel, their own cancel methods, a required ref_price_type, their second id in the
regular lists, the rate-limit table, and answers that are not the exchange's."""

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
from bot.exchange.v1_limits import limit_for
from bot.exchange.v1_signing import signature
from tests.exchange.v1_client import V1Client

D = Decimal
BTC = "BTC_USDT"


def config(**overrides: Any) -> SimulatorConfig:
    return SimulatorConfig(**({"balances": {"USDT": D(100000), "BTC": D(1)}} | overrides))


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorHandle]:
    async with running_simulator(config()) as handle:
        yield handle


@pytest.fixture
async def client(sim: SimulatorHandle) -> AsyncIterator[V1Client]:
    client = V1Client(sim.rest_url, sim.api_key, sim.api_secret)
    yield client
    await client.close()


def stop_loss(client_oid: str, ref_price: str = "95000", **extra: Any) -> dict[str, Any]:
    return {"instrument_name": BTC, "side": "SELL", "type": "STOP_LOSS", "quantity": "0.1", "ref_price": ref_price,
            "ref_price_type": "MARK_PRICE", "client_oid": client_oid, **extra}


def oco_legs(prefix: str) -> list[dict[str, Any]]:
    return [{"instrument_name": BTC, "side": "SELL", "type": "LIMIT", "price": "103000", "quantity": "0.1",
             "client_oid": f"{prefix}-tp"}, stop_loss(f"{prefix}-sl", "97000")]


def otoco_legs(prefix: str) -> list[dict[str, Any]]:
    return [{"instrument_name": BTC, "side": "BUY", "type": "LIMIT", "price": "90000", "quantity": "0.01",
             "client_oid": f"{prefix}-entry"},
            stop_loss(f"{prefix}-sl", "87300", quantity="0.01"),
            {"instrument_name": BTC, "side": "SELL", "type": "TAKE_PROFIT_LIMIT", "ref_price": "92700",
             "ref_price_type": "MARK_PRICE", "price": "92700", "quantity": "0.01", "client_oid": f"{prefix}-tp"}]


async def pushes(sim: SimulatorHandle, channels: list[str], during: Any) -> list[dict[str, Any]]:
    """The order pushes (id -1) one authenticated socket subscribed to `channels` receives while
    `during()` runs, as (channel, client_oid, status)."""
    async with aiohttp.ClientSession() as session, session.ws_connect(sim.ws_url) as ws:
        nonce = time.time_ns() // 1_000_000
        await ws.send_str(json.dumps({"id": nonce, "method": "public/auth", "api_key": sim.api_key, "nonce": nonce,
                                      "sig": signature(sim.api_secret, "public/auth", nonce, sim.api_key, {}, nonce)}))
        await ws.send_str(json.dumps({"id": 2, "method": "subscribe", "params": {"channels": channels},
                                      "nonce": nonce}))
        seen: list[dict[str, Any]] = []
        while not any(m.get("id") == 2 and m.get("code") == 0 for m in seen):
            seen.append(json.loads((await ws.receive(timeout=2)).data))
        during()
        found = []
        while True:
            try:
                message = json.loads((await ws.receive(timeout=0.3)).data)
            except TimeoutError:
                return found
            result = message.get("result") or {}
            if message.get("id") == -1 and str(result.get("channel", "")).startswith("user.") \
                    and result["channel"] not in ("user.balance", "user.trade"):
                found += [{"channel": result["channel"], "client_oid": o["client_oid"], "status": o["status"],
                           "order_id": o["order_id"]} for o in result["data"]]


# --- user.advance.order -----------------------------------------------------------------------------


async def test_advanced_orders_change_on_the_advanced_channel_only(client: V1Client, sim: SimulatorHandle) -> None:
    await client.ok("private/advanced/create-order", stop_loss("adv-sl"))
    await client.ok("private/create-order", {"instrument_name": BTC, "side": "BUY", "type": "LIMIT",
                                             "price": "90000", "quantity": "0.001", "client_oid": "plain"})

    found = await pushes(sim, ["user.order", "user.advance.order"], lambda: sim.set_price(BTC, "89000"))

    assert {(p["channel"], p["client_oid"]) for p in found} == {
        ("user.advance.order", "adv-sl"), ("user.order", "plain")}
    assert [p["status"] for p in found if p["client_oid"] == "adv-sl"] == ["FILLED"]


async def test_a_client_on_user_order_alone_never_hears_of_its_stop_loss(client: V1Client,
                                                                        sim: SimulatorHandle) -> None:
    await client.ok("private/advanced/create-order", stop_loss("quiet-sl"))

    found = await pushes(sim, ["user.order"], lambda: sim.set_price(BTC, "94000"))

    assert [p for p in found if p["client_oid"] == "quiet-sl"] == []


async def test_the_mirror_switch_pushes_advanced_orders_on_user_order_too() -> None:
    async with running_simulator(config(mirror_advanced_on_user_order=True)) as sim:
        client = V1Client(sim.rest_url, sim.api_key, sim.api_secret)
        try:
            await client.ok("private/advanced/create-oco", {"order_list": oco_legs("mir")})
            found = await pushes(sim, ["user.order", "user.advance.order"], lambda: sim.set_price(BTC, "103500"))
        finally:
            await client.close()

    legs = {(p["channel"], p["client_oid"], p["status"]) for p in found}
    for channel in ("user.order", "user.advance.order"):
        assert {(channel, "mir-tp", "FILLED"), (channel, "mir-sl", "CANCELED")} <= legs


async def test_the_advanced_channel_can_be_labelled_with_the_rest_pages_spelling() -> None:
    async with running_simulator(config(advanced_channel_label="user.advanced.order")) as sim:
        client = V1Client(sim.rest_url, sim.api_key, sim.api_secret)
        try:
            await client.ok("private/advanced/create-order", stop_loss("lbl-sl"))
            found = await pushes(sim, ["user.advance.order"], lambda: sim.set_price(BTC, "94000"))
        finally:
            await client.close()
    assert [(p["channel"], p["client_oid"]) for p in found] == [("user.advanced.order", "lbl-sl")]


# --- cancelling lists ---------------------------------------------------------------------------------


async def test_cancel_oco_refuses_an_otoco_list_and_cancel_otoco_takes_it(client: V1Client,
                                                                         sim: SimulatorHandle) -> None:
    otoco = await client.ok("private/advanced/create-otoco", {"order_list": otoco_legs("l1")})
    oco = await client.ok("private/advanced/create-oco", {"order_list": oco_legs("l2")})

    status, body = await client.private("private/advanced/cancel-oco", {"list_id": otoco["list_id"]})
    assert (status, body["code"]) == (500, 212)
    assert all(o.is_open for o in sim.engine.list_orders(otoco["list_id"]))
    status, body = await client.private("private/advanced/cancel-otoco", {"list_id": oco["list_id"]})
    assert (status, body["code"]) == (500, 212)
    assert all(o.is_open for o in sim.engine.list_orders(oco["list_id"]))

    await client.ok("private/advanced/cancel-otoco", {"list_id": otoco["list_id"]})
    await client.ok("private/advanced/cancel-oco", {"list_id": oco["list_id"]})
    assert not any(o.is_open for o in sim.engine.open_orders())


async def test_cancel_oto_is_the_same_as_cancel_otoco(client: V1Client, sim: SimulatorHandle) -> None:
    otoco = await client.ok("private/advanced/create-otoco", {"order_list": otoco_legs("l3")})

    await client.ok("private/advanced/cancel-oto", {"list_id": otoco["list_id"]})

    assert {o.status.value for o in sim.engine.list_orders(otoco["list_id"])} == {"CANCELED"}


# --- ref_price_type -------------------------------------------------------------------------------


async def test_a_trigger_without_ref_price_type_is_refused(client: V1Client, sim: SimulatorHandle) -> None:
    bare = {k: v for k, v in stop_loss("no-type").items() if k != "ref_price_type"}
    status, body = await client.private("private/advanced/create-order", bare)
    assert (status, body["code"]) == (400, 40004)
    legs = oco_legs("no-type-oco")
    del legs[1]["ref_price_type"]
    status, body = await client.private("private/advanced/create-oco", {"order_list": legs})
    assert (status, body["code"]) == (400, 40004)
    assert sim.engine.open_orders() == []


async def test_an_oco_trigger_leg_takes_mark_price_only(client: V1Client) -> None:
    legs = oco_legs("last")
    legs[1]["ref_price_type"] = "LAST_PRICE"
    status, body = await client.private("private/advanced/create-oco", {"order_list": legs})
    assert (status, body["code"]) == (400, 230)


async def test_a_trigger_at_twice_the_mark_price_is_229(client: V1Client) -> None:
    take_profit = {**stop_loss("far"), "type": "TAKE_PROFIT", "ref_price": "200000"}
    status, body = await client.private("private/advanced/create-order", take_profit)
    assert (status, body["code"]) == (400, 229)
    await client.ok("private/advanced/create-order", {**take_profit, "ref_price": "199999", "client_oid": "near"})


# --- two ids of one advanced order ------------------------------------------------------------------


async def test_a_fired_trigger_is_in_the_regular_lists_under_its_exchange_order_id(client: V1Client,
                                                                                  sim: SimulatorHandle) -> None:
    placed = await client.ok("private/advanced/create-order", {**stop_loss("fired"), "type": "STOP_LIMIT",
                                                               "price": "96000"})
    regular = (await client.ok("private/get-open-orders"))["data"]
    assert regular == []                              # untriggered: in the advanced list only

    sim.set_price(BTC, "94000")                       # fires; its limit (96,000) rests on the book

    [advanced] = (await client.ok("private/advanced/get-open-orders"))["data"]
    [plain] = (await client.ok("private/get-open-orders"))["data"]
    assert advanced["order_id"] == placed["order_id"] and advanced["exchange_order_id"] == plain["order_id"]
    assert plain["order_id"] != placed["order_id"] and plain["client_oid"] == advanced["client_oid"] == "fired"
    assert (plain["order_type"], advanced["order_type"]) == ("LIMIT", "STOP_LIMIT")
    detail = await client.ok("private/get-order-detail", {"order_id": plain["order_id"]})
    assert detail["client_oid"] == "fired"
    _, body = await client.private("private/get-order-detail", {"order_id": placed["order_id"]})
    assert body["code"] == 40401                      # the regular methods do not know the advanced id


async def test_both_histories_hold_a_filled_oco_leg(client: V1Client, sim: SimulatorHandle) -> None:
    await client.ok("private/advanced/create-oco", {"order_list": oco_legs("hist")})
    sim.set_price(BTC, "103500")

    regular = (await client.ok("private/get-order-history"))["data"]
    await asyncio.sleep(1.0)                           # 1 request/s on the regular history
    advanced = (await client.ok("private/advanced/get-order-history"))["data"]

    assert [o["client_oid"] for o in regular] == ["hist-tp"]     # the stop never fired: advanced only
    assert sorted(o["client_oid"] for o in advanced) == ["hist-sl", "hist-tp"]
    take_profit = next(o for o in advanced if o["client_oid"] == "hist-tp")
    assert take_profit["exchange_order_id"] == regular[0]["order_id"] != take_profit["order_id"]


# --- the rate-limit table ---------------------------------------------------------------------------


def test_the_rate_limit_table_is_the_references() -> None:
    per_100ms = {m: (limit_for(m).requests, limit_for(m).window_seconds) for m in (
        "private/create-order", "private/cancel-order", "private/cancel-all-orders", "private/get-order-detail",
        "private/advanced/get-order-detail", "private/advanced/create-order", "private/advanced/cancel-order",
        "private/advanced/get-order-history", "private/get-open-orders", "private/user-balance")}
    assert per_100ms == {
        "private/create-order": (15, 0.1), "private/cancel-order": (15, 0.1), "private/cancel-all-orders": (15, 0.1),
        "private/get-order-detail": (30, 0.1), "private/advanced/get-order-detail": (3, 0.1),
        "private/advanced/create-order": (3, 0.1), "private/advanced/cancel-order": (3, 0.1),
        "private/advanced/get-order-history": (3, 0.1), "private/get-open-orders": (3, 0.1),
        "private/user-balance": (3, 0.1)}
    for method in ("private/get-order-history", "private/get-trades"):
        assert (limit_for(method).requests, limit_for(method).window_seconds) == (1, 1.0)


async def test_the_simulator_counts_each_method_on_its_own(client: V1Client, sim: SimulatorHandle) -> None:
    await client.ok("private/advanced/create-order", stop_loss("rl"))
    answers = await asyncio.gather(*[client.private("private/advanced/get-order-detail", {"client_oid": "rl"})
                                     for _ in range(4)])
    regular = await asyncio.gather(*[client.private("private/get-order-detail", {"client_oid": "nope"})
                                     for _ in range(20)])

    assert sorted(body["code"] for _, body in answers) == [0, 0, 0, 42901]
    assert {body["code"] for _, body in regular} == {40401}      # 30 per 100 ms: none refused


# --- answers that are not the exchange's ------------------------------------------------------------


@pytest.mark.parametrize("style", ["truncated", "html", "reset"])
async def test_a_garbled_answer_still_placed_the_order(client: V1Client, sim: SimulatorHandle, style: str) -> None:
    sim.faults.garble("private/create-order", style)
    params = {"instrument_name": BTC, "side": "BUY", "type": "LIMIT", "price": "90000", "quantity": "0.001",
              "client_oid": f"g-{style}"}
    try:
        status, body = await client.private("private/create-order", params)
    except (aiohttp.ClientPayloadError, ValueError):
        pass                                            # "reset", or a body that is not JSON
    else:
        assert body.get("code") is None or status != 200
    assert sim.engine.get(client_oid=f"g-{style}") is not None
