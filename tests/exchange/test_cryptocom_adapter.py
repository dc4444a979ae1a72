"""The live crypto.com adapter end to end against the v1 simulator over loopback (real ccxt, real
HTTP and WebSocket; nothing of ours is mocked)."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from itertools import pairwise

import pytest

from bot.devtools.simulator_harness import SimulatorHandle, running_simulator
from bot.domain.orders import OrderStatus, OrderType, Side
from bot.exchange.base import Candle, Exchange, OcoRequest, OrderRequest, OtocoRequest, TriggerOrderRequest
from bot.exchange.cryptocom import CryptoComExchange
from bot.exchange.errors import (
    AuthenticationFailed,
    DuplicateClientOrderId,
    ExchangeError,
    ExchangeUnavailable,
    InsufficientFunds,
    InvalidOrder,
    OrderNotFound,
    RateLimited,
    TooManyOpenOrders,
    TriggerEndpointRequired,
    UnknownInstrument,
)
from bot.exchange.simulator.market import bundled_candles
from tests.exchange.cryptocom_helpers import TRIGGER_TYPES, adapter, collecting, eventually, funded

D = Decimal
BTC = "BTC_USDT"


@pytest.fixture(scope="module")
def candles() -> dict[str, list[Candle]]:
    return bundled_candles()        # read once: the files take a second to load


@pytest.fixture
async def sim(candles: dict[str, list[Candle]]) -> AsyncIterator[SimulatorHandle]:
    async with running_simulator(funded(candles=candles)) as handle:
        yield handle


@pytest.fixture
async def live(sim: SimulatorHandle) -> AsyncIterator[CryptoComExchange]:
    exchange = adapter(sim)
    try:
        yield exchange
    finally:
        await exchange.close()


def limit_buy(client_oid: str, price: str = "95000", quantity: str = "0.01") -> OrderRequest:
    return OrderRequest(BTC, Side.BUY, OrderType.LIMIT, client_oid, quantity=D(quantity), price=D(price))


def engine_orders(sim: SimulatorHandle, client_oid: str) -> list[object]:
    found = [o for o in sim.engine.open_orders() if o.client_oid == client_oid]
    history = sim.engine.history(start_ns=0, end_ns=2**62, limit=100_000)
    return found + [o for o in history if o.client_oid == client_oid]


# --- reads ---------------------------------------------------------------------------------------


async def test_adapter_satisfies_the_exchange_protocol(live: CryptoComExchange) -> None:
    assert isinstance(live, Exchange)
    assert (live.name, live.mode) == ("cryptocom", "live")


async def test_instruments_carry_the_exchange_tick_sizes(live: CryptoComExchange) -> None:
    instruments = await live.instruments()

    assert instruments[BTC].price_tick == D("0.01") and instruments[BTC].qty_tick == D("0.00001")
    assert instruments["ETH_USDT"].qty_tick == D("0.0001")
    assert (await live.instrument(BTC)) == instruments[BTC]
    with pytest.raises(UnknownInstrument):
        await live.instrument("NOPE_USDT")


async def test_tickers_are_exact_decimals(live: CryptoComExchange, sim: SimulatorHandle) -> None:
    sim.set_price(BTC, D("100123.45"))

    ticker = await live.ticker(BTC)
    everything = await live.tickers()

    assert ticker.last == D("100123.45") and isinstance(ticker.last, Decimal)
    assert ticker.bid == D("100123.44") and ticker.ask == D("100123.46")
    assert everything[BTC].last == D("100123.45")


async def test_candles_come_oldest_first_up_to_the_limit(live: CryptoComExchange) -> None:
    candles = await live.candles(BTC, "1h", limit=48)

    assert len(candles) == 48
    assert [c.timestamp_ms for c in candles] == sorted(c.timestamp_ms for c in candles)
    assert all(isinstance(c.close, Decimal) for c in candles)
    since = candles[10].timestamp_ms
    assert (await live.candles(BTC, "1h", limit=5, since_ms=since))[0].timestamp_ms == since


async def test_the_updaters_500_candles_come_in_pages_without_gaps_or_the_forming_one(
        live: CryptoComExchange, sim: SimulatorHandle) -> None:
    candles = await live.candles(BTC, "1h", limit=500)

    assert len(candles) == 500                                   # more than one request's 300
    steps = {b.timestamp_ms - a.timestamp_ms for a, b in itertools.pairwise(candles)}
    assert steps == {3_600_000}                                  # consecutive, none twice
    assert candles[-1].timestamp_ms + 3_600_000 <= time.time() * 1000   # only closed candles
    assert len(sim.calls_to("public/get-candlestick")) == 2


async def test_balances_split_total_free_and_locked(live: CryptoComExchange) -> None:
    await live.create_order(limit_buy("bal-1", price="90000", quantity="0.1"))

    usdt = (await live.balances())["USDT"]

    assert usdt.total == D(100000)
    assert usdt.locked >= D(9000)                     # the price, plus the fee held back
    assert usdt.free == usdt.total - usdt.locked


# --- limit / market orders -------------------------------------------------------------------------


async def test_limit_order_is_acknowledged_then_listed_found_and_cancelled(live: CryptoComExchange,
                                                                           sim: SimulatorHandle) -> None:
    placed = await live.create_order(limit_buy("lim-1", price="95000.009", quantity="0.0123456"))

    assert placed.status is OrderStatus.NEW          # an acknowledgement, not a state
    assert placed.price == D("95000") and placed.quantity == D("0.01234")
    listed = await live.open_orders(BTC)
    assert [o.client_oid for o in listed] == ["lim-1"] and listed[0].status is OrderStatus.ACTIVE
    by_id = await live.order_detail(order_id=placed.order_id)
    by_oid = await live.order_detail(client_oid="lim-1")
    assert by_id is not None and by_oid is not None and by_id.order_id == by_oid.order_id == placed.order_id

    await live.cancel_order(symbol=BTC, order_id=placed.order_id)

    detail = await live.order_detail(order_id=placed.order_id)
    assert detail is not None and detail.status is OrderStatus.CANCELED
    assert await live.open_orders() == []
    assert await live.order_detail(client_oid="never-sent") is None


async def test_market_buy_fills_and_reports_fees_as_positive(live: CryptoComExchange) -> None:
    placed = await live.create_order(OrderRequest(BTC, Side.BUY, OrderType.MARKET, "mkt-1", quantity=D("0.01")))

    detail = await live.order_detail(order_id=placed.order_id)

    assert detail is not None and detail.status is OrderStatus.FILLED
    assert detail.filled_quantity == D("0.01") and detail.fee > 0


async def test_order_history_pages_newest_first_without_gaps(live: CryptoComExchange, sim: SimulatorHandle) -> None:
    now = sim.simulator.clock()
    seeded = sim.seed_history(150, start_ns=now - 3_600 * 10**9, end_ns=now - 60 * 10**9)

    first = await live.order_history(now - 7_200 * 10**9, now, limit=100)
    assert first.next_end_ns is not None
    second = await live.order_history(now - 7_200 * 10**9, first.next_end_ns, limit=100)

    ids = [o.order_id for o in first.orders + second.orders]
    assert len(first.orders) == 100 and second.next_end_ns is None
    assert sorted(ids) == sorted(o.order_id for o in seeded) and len(set(ids)) == 150
    times = [o.create_time_ns for o in first.orders + second.orders]
    assert times == sorted(times, reverse=True)


async def test_history_requests_are_paced_to_one_per_second(live: CryptoComExchange, sim: SimulatorHandle) -> None:
    now = sim.simulator.clock()
    for _ in range(3):
        await live.order_history(now - 10**9, now)

    calls = sim.calls_to("private/get-order-history")
    assert [c.code for c in calls] == ["0", "0", "0"]          # never a 42901: we waited
    assert all(b.at_ns - a.at_ns >= 0.95e9 for a, b in pairwise(calls))


# --- trigger orders, OCO, OTOCO ----------------------------------------------------------------------


async def test_trigger_orders_go_to_the_advanced_endpoint_only(live: CryptoComExchange,
                                                               sim: SimulatorHandle) -> None:
    requests = [
        TriggerOrderRequest(BTC, Side.SELL, OrderType.STOP_LOSS, "trg-sl", D("0.1"), D("90000")),
        TriggerOrderRequest(BTC, Side.SELL, OrderType.STOP_LIMIT, "trg-sll", D("0.1"), D("90000"), D("89900")),
        TriggerOrderRequest(BTC, Side.SELL, OrderType.TAKE_PROFIT, "trg-tp", D("0.1"), D("110000")),
        TriggerOrderRequest(BTC, Side.SELL, OrderType.TAKE_PROFIT_LIMIT, "trg-tpl", D("0.1"), D("110000"),
                            D("110100")),
    ]
    placed = [await live.create_trigger_order(r) for r in requests]
    await live.cancel_order(symbol=BTC, client_oid="trg-sl")

    advanced = sim.calls_to("private/advanced/create-order")
    assert [c.params["type"] for c in advanced] == [r.order_type.value for r in requests]
    assert all(c.code == "0" for c in advanced)
    assert all(c.params.get("type") not in TRIGGER_TYPES for c in sim.calls_to("private/create-order"))
    assert [c.params for c in sim.calls_to("private/advanced/cancel-order")] == [{"client_oid": "trg-sl"}]
    assert sim.calls_to("private/cancel-order") == []
    statuses = {o.client_oid: o.status for o in await live.open_orders()}
    assert statuses == {"trg-sll": OrderStatus.PENDING, "trg-tp": OrderStatus.PENDING,
                        "trg-tpl": OrderStatus.PENDING}
    assert placed[0].trigger_price == D("90000")


async def test_a_trigger_type_given_to_create_order_is_refused_before_sending(live: CryptoComExchange,
                                                                              sim: SimulatorHandle) -> None:
    with pytest.raises(TriggerEndpointRequired):
        await live.create_order(OrderRequest(BTC, Side.SELL, OrderType.STOP_LOSS, "bad-1", quantity=D("0.1"),
                                             price=D("90000")))

    assert sim.calls_to("private/create-order") == []


async def test_native_oco_fill_of_take_profit_cancels_the_stop(live: CryptoComExchange, sim: SimulatorHandle) -> None:
    placement = await live.create_oco(OcoRequest(BTC, Side.SELL, D("0.5"), take_profit_price=D("110000"),
                                                 stop_loss_trigger=D("90000"), take_profit_client_oid="oco-tp",
                                                 stop_loss_client_oid="oco-sl"))
    assert placement.list_id and placement.take_profit_order_id and placement.stop_loss_order_id

    sim.set_price(BTC, D("110000"))

    take = await live.order_detail(client_oid="oco-tp")
    stop = await live.order_detail(client_oid="oco-sl")
    assert take is not None and take.status is OrderStatus.FILLED and take.list_id == placement.list_id
    assert stop is not None and stop.status is OrderStatus.CANCELED
    [call] = sim.calls_to("private/advanced/create-oco")
    assert [leg["type"] for leg in call.params["order_list"]] == ["LIMIT", "STOP_LOSS"]


async def test_cancel_oco_cancels_both_legs(live: CryptoComExchange, sim: SimulatorHandle) -> None:
    placement = await live.create_oco(OcoRequest(BTC, Side.SELL, D("0.5"), D("110000"), D("90000"),
                                                 "oco2-tp", "oco2-sl"))

    await live.cancel_oco(placement.list_id, BTC)

    legs = [await live.order_detail(client_oid=oid) for oid in ("oco2-tp", "oco2-sl")]
    assert [leg.status for leg in legs if leg] == [OrderStatus.CANCELED, OrderStatus.CANCELED]
    assert [c.params for c in sim.calls_to("private/advanced/cancel-oco")] == [{"list_id": placement.list_id}]


async def test_otoco_exit_legs_wait_for_the_entry(live: CryptoComExchange, sim: SimulatorHandle) -> None:
    entry = OrderRequest("ETH_USDT", Side.BUY, OrderType.LIMIT, "oto-entry", quantity=D("1"), price=D("3400"))
    placement = await live.create_otoco(OtocoRequest(entry, stop_loss_trigger=D("3000"),
                                                     take_profit_price=D("4000"),
                                                     stop_loss_client_oid="oto-sl", take_profit_client_oid="oto-tp"))

    sim.set_price("ETH_USDT", D("3400"))

    bought = await live.order_detail(client_oid="oto-entry")
    assert bought is not None and bought.status is OrderStatus.FILLED
    stop = await live.order_detail(client_oid="oto-sl")
    assert stop is not None and stop.order_id == placement.stop_loss_order_id and stop.status.is_open
    [call] = sim.calls_to("private/advanced/create-otoco")
    assert [leg["type"] for leg in call.params["order_list"]] == ["LIMIT", "STOP_LOSS", "TAKE_PROFIT_LIMIT"]


# --- failures -------------------------------------------------------------------------------------


async def test_rate_limited_create_is_retried_with_backoff(live: CryptoComExchange, sim: SimulatorHandle) -> None:
    sim.faults.force_code("private/create-order", 42901, times=2)

    placed = await live.create_order(limit_buy("rl-1"))

    assert [c.code for c in sim.calls_to("private/create-order")] == ["42901", "42901", "0"]
    assert len(engine_orders(sim, "rl-1")) == 1 and placed.client_oid == "rl-1"


async def test_rate_limit_that_never_clears_is_reported(sim: SimulatorHandle) -> None:
    exchange = adapter(sim, rate_limit_retries=2)
    sim.faults.force_code("private/user-balance", 42901, times=None)
    try:
        with pytest.raises(RateLimited):
            await exchange.balances()
    finally:
        await exchange.close()
    assert len(sim.calls_to("private/user-balance")) == 3


async def test_ambiguous_create_finds_the_first_order_instead_of_placing_a_second(
        live: CryptoComExchange, sim: SimulatorHandle) -> None:
    sim.faults.drop("private/create-order")          # processed, then the connection drops

    placed = await live.create_order(limit_buy("amb-1"))

    assert len(sim.calls_to("private/create-order")) == 1
    assert len(engine_orders(sim, "amb-1")) == 1
    assert placed.client_oid == "amb-1" and placed.status is OrderStatus.ACTIVE
    assert sim.calls_to("private/get-order-detail")[0].params == {"client_oid": "amb-1"}


async def test_create_lost_before_processing_is_sent_once_more(live: CryptoComExchange, sim: SimulatorHandle) -> None:
    sim.faults.fail_http("private/create-order", 503)   # refused without processing

    await live.create_order(limit_buy("lost-1"))

    assert [c.code for c in sim.calls_to("private/create-order")] == ["HTTP 503", "0"]
    assert len(engine_orders(sim, "lost-1")) == 1


async def test_resend_answered_duplicate_returns_the_first_order(live: CryptoComExchange,
                                                                 sim: SimulatorHandle) -> None:
    # The first create lands but its answer is lost, and the look-ups do not see it yet (the
    # exchange is asynchronous): the resend gets 204, which means "it is there, go and find it".
    sim.faults.drop("private/create-order")
    for method in ("private/get-order-detail", "private/advanced/get-order-detail"):
        sim.faults.force_code(method, 40401, times=3)

    placed = await live.create_order(limit_buy("dup-1"))

    assert [c.code for c in sim.calls_to("private/create-order")] == ["0", "204"]
    assert len(engine_orders(sim, "dup-1")) == 1 and placed.client_oid == "dup-1"


async def test_timeout_on_create_then_the_order_is_found(sim: SimulatorHandle) -> None:
    exchange = adapter(sim, timeout_seconds=0.3)
    sim.faults.latency("private/create-order", 0.6, times=1)   # processed after the client gave up
    try:
        placed = await exchange.create_order(limit_buy("slow-1"))
    finally:
        await exchange.close()
    assert len(engine_orders(sim, "slow-1")) == 1 and placed.client_oid == "slow-1"


async def test_ambiguous_cancel_is_confirmed_by_a_lookup(live: CryptoComExchange, sim: SimulatorHandle) -> None:
    placed = await live.create_order(limit_buy("amb-cancel"))
    sim.faults.drop("private/cancel-order")

    await live.cancel_order(symbol=BTC, order_id=placed.order_id)

    assert len(sim.calls_to("private/cancel-order")) == 1
    assert sim.engine.get(order_id=placed.order_id).status is OrderStatus.CANCELED


async def test_cancel_of_a_finished_order_is_order_not_found(live: CryptoComExchange, sim: SimulatorHandle) -> None:
    placed = await live.create_order(limit_buy("done-1"))
    await live.cancel_order(symbol=BTC, order_id=placed.order_id)

    with pytest.raises(OrderNotFound):
        await live.cancel_order(symbol=BTC, order_id=placed.order_id)


@pytest.mark.parametrize(("code", "expected"), [
    ("204", DuplicateClientOrderId), ("209", UnknownInstrument), ("212", OrderNotFound), ("220", InvalidOrder),
    ("229", InvalidOrder), ("308", InvalidOrder), ("316", OrderNotFound), ("318", TooManyOpenOrders),
    ("140001", TriggerEndpointRequired), ("306", InsufficientFunds), ("213", InvalidOrder),
    ("40101", AuthenticationFailed), ("43005", InvalidOrder), ("99999", ExchangeError),
])
async def test_exchange_codes_become_project_exceptions(live: CryptoComExchange, sim: SimulatorHandle,
                                                        code: str, expected: type[Exception]) -> None:
    sim.faults.force_code("private/create-order", code)

    with pytest.raises(expected) as caught:
        await live.create_order(limit_buy(f"code-{code}"))

    assert caught.value.code == code and caught.value.reason
    assert not isinstance(caught.value, ExchangeUnavailable)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert len(engine_orders(sim, f"code-{code}")) == 0


async def test_real_insufficient_balance_is_reported_as_such(live: CryptoComExchange) -> None:
    with pytest.raises(InsufficientFunds) as caught:
        await live.create_order(limit_buy("poor-1", price="95000", quantity="5"))
    assert caught.value.code == "306"


async def test_wrong_secret_fails_authentication_without_revealing_keys(sim: SimulatorHandle) -> None:
    exchange = CryptoComExchange(sim.api_key, "wrong-secret-value", api_url=sim.rest_url, live_trading=True)
    try:
        with pytest.raises(AuthenticationFailed) as caught:
            await exchange.balances()
    finally:
        await exchange.close()
    text = f"{caught.value} {caught.value!r} {exchange!r}"
    assert sim.api_key not in text and "wrong-secret-value" not in text


async def test_unreachable_exchange_is_unavailable_not_a_ccxt_error(unused_tcp_port: int) -> None:
    exchange = CryptoComExchange("key-x1", "secret-x1", api_url=f"http://127.0.0.1:{unused_tcp_port}/exchange/v1",
                                 live_trading=True)
    try:
        with pytest.raises(ExchangeUnavailable) as caught:
            await exchange.balances()
    finally:
        await exchange.close()
    assert type(caught.value).__module__ == "bot.exchange.errors"


# --- order stream -----------------------------------------------------------------------------------


async def test_stream_delivers_order_updates(live: CryptoComExchange, sim: SimulatorHandle) -> None:
    async with collecting(live) as seen:
        await eventually(lambda: bool(live.streams) and live.streams[0].connected.is_set())
        placed = await live.create_order(limit_buy("ws-1"))
        await live.cancel_order(symbol=BTC, order_id=placed.order_id)

        await eventually(lambda: any(u.order.client_oid == "ws-1" and u.order.status is OrderStatus.CANCELED
                                     for u in seen))
    mine = [u for u in seen if u.order.client_oid == "ws-1"]
    assert [u.order.status for u in mine] == [OrderStatus.ACTIVE, OrderStatus.CANCELED]
    assert {u.source for u in mine} == {"stream"}
    assert [c.code for c in sim.calls if c.method == "public/auth"] == ["0"]


async def test_heartbeats_are_answered_and_keep_the_socket(sim: SimulatorHandle) -> None:
    async with running_simulator(funded(heartbeat_seconds=0.1, heartbeat_timeout_seconds=0.5)) as fast_sim:
        exchange = adapter(fast_sim)
        try:
            async with collecting(exchange) as seen:
                await eventually(lambda: bool(exchange.streams) and exchange.streams[0].heartbeats_answered >= 3)
                await exchange.create_order(limit_buy("hb-1"))
                await eventually(lambda: any(u.order.client_oid == "hb-1" for u in seen))
                assert exchange.streams[0].connections == 1
        finally:
            await exchange.close()


async def test_stream_reconnects_after_the_server_drops_the_socket(live: CryptoComExchange,
                                                                   sim: SimulatorHandle) -> None:
    async with collecting(live) as seen:
        await eventually(lambda: bool(live.streams) and live.streams[0].connected.is_set())
        assert await sim.drop_websockets() == 1

        await eventually(lambda: live.streams[0].connections == 2)
        await live.create_order(limit_buy("ws-again"))
        await eventually(lambda: any(u.order.client_oid == "ws-again" and u.source == "stream" for u in seen))
    assert [c.code for c in sim.calls if c.method == "public/auth"] == ["0", "0"]


async def test_polling_covers_changes_while_the_socket_is_down(sim: SimulatorHandle) -> None:
    exchange = adapter(sim, reconnect_base_seconds=30.0, reconnect_max_seconds=30.0)
    placed = await exchange.create_order(limit_buy("gap-1"))
    try:
        async with collecting(exchange) as seen:
            await eventually(lambda: any(u.order.client_oid == "gap-1" for u in seen))
            await eventually(lambda: exchange.streams[0].connected.is_set())
            await sim.drop_websockets()
            await eventually(lambda: not exchange.streams[0].connected.is_set())
            # The socket stays down (30 s backoff); the order is cancelled on the exchange meanwhile.
            sim.engine.cancel(order_id=placed.order_id, now_ns=sim.simulator.clock())

            await eventually(lambda: any(u.order.client_oid == "gap-1" and u.order.status is OrderStatus.CANCELED
                                         for u in seen))
        final = [u for u in seen if u.order.status is OrderStatus.CANCELED]
        assert [u.source for u in final] == ["poll"]
    finally:
        await exchange.close()


async def test_without_a_ws_url_updates_come_from_polling_only(sim: SimulatorHandle) -> None:
    exchange = adapter(sim, ws=False)
    try:
        async with collecting(exchange) as seen:
            placed = await exchange.create_order(limit_buy("poll-1"))
            await eventually(lambda: any(u.order.client_oid == "poll-1" for u in seen))
            await exchange.cancel_order(symbol=BTC, order_id=placed.order_id)
            await eventually(lambda: any(u.order.status is OrderStatus.CANCELED for u in seen))
    finally:
        await exchange.close()
    assert {u.source for u in seen} == {"poll"}
    assert not [c for c in sim.calls if c.transport == "ws"]
    assert [u.order.status for u in seen if u.order.client_oid == "poll-1"] == [OrderStatus.ACTIVE,
                                                                                 OrderStatus.CANCELED]


async def test_no_log_line_carries_the_api_key_or_secret(caplog: pytest.LogCaptureFixture) -> None:
    key, secret = "distinctive-key-5f1c2e", "distinctive-secret-9a8b7c"
    async with running_simulator(funded(api_key=key, api_secret=secret)) as keyed:
        exchange = adapter(keyed)
        caplog.set_level("DEBUG")
        try:
            async with collecting(exchange) as seen:
                await exchange.create_order(limit_buy("log-1"))
                keyed.faults.drop("private/create-order")
                keyed.faults.force_code("private/user-balance", 40101)
                await exchange.create_order(limit_buy("log-2"))
                with pytest.raises(AuthenticationFailed) as caught:
                    await exchange.balances()
                await eventually(lambda: len({u.order.client_oid for u in seen}) == 2)
        finally:
            await exchange.close()
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    # ccxt's own request lines (bodies with "api_key") were captured, and masked.
    assert any(r.name.endswith(".ccxt") and '"api_key":"********"' in r.getMessage() for r in caplog.records)
    assert key not in logged and secret not in logged
    assert key not in f"{caught.value!r} {exchange!r} {exchange.transport!r}"
