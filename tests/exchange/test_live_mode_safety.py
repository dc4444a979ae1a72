"""Real orders need LIVE_TRADING=true exactly AND an adapter built with live_trading=True.

A local recording server stands in for the exchange: it answers public market data and records
every request, so "nothing private was sent" is checked on the wire, not by trusting our code.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.domain.orders import OrderType, Side
from bot.exchange.base import OcoRequest, OrderRequest, OtocoRequest, TriggerOrderRequest
from bot.exchange.cryptocom import CryptoComExchange, LiveTradingDisabled
from bot.exchange.factory import build_exchange
from bot.settings import SettingsError, load_settings

D = Decimal
KEY = "live-looking-key-0123456789"
SECRET = "live-looking-secret-9876543210"


class Recorder:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        self.requests.append({"method": request.method, "path": request.path, "body": body})
        name = request.match_info["name"]
        if name == "public/get-instruments":
            result: dict[str, Any] = {"data": [{"symbol": "BTC_USDT", "inst_type": "CCY_PAIR", "base_ccy": "BTC",
                                                "quote_ccy": "USDT", "price_tick_size": "0.01",
                                                "qty_tick_size": "0.00001", "tradable": True}]}
        elif name == "public/get-tickers":
            result = {"data": [{"i": "BTC_USDT", "a": "100000", "b": "99999.99", "k": "100000.01", "t": 1}]}
        else:
            result = {"data": []}
        return web.json_response({"id": -1, "method": name, "code": 0, "result": result})

    @property
    def private(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if "/private/" in r["path"] or KEY in r["body"]]


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[Recorder, str]]:
    rec = Recorder()
    app = web.Application()
    app.router.add_route("*", "/exchange/v1/{name:.+}", rec.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield rec, str(server.make_url("/exchange/v1"))
    finally:
        await server.close()


def keyed_settings(url: str, monkeypatch: pytest.MonkeyPatch, live_trading: str | None) -> Any:
    for name in ("LIVE_TRADING", "EXCHANGE_API_URL", "EXCHANGE_WS_URL"):
        monkeypatch.delenv(name, raising=False)
    values = {"EXCHANGE_CUSTOM_API_KEY": KEY, "EXCHANGE_CUSTOM_API_SECRET": SECRET, "EXCHANGE_API_URL": url,
              "EXCHANGE_WS_URL": url.replace("http://", "ws://") + "/user"}
    if live_trading is not None:
        values["LIVE_TRADING"] = live_trading
    return load_settings(**values)


async def exercise(exchange: Any) -> None:
    """Every write of the protocol, plus the reads a sync cycle makes (prices around the market)."""
    last = (await exchange.ticker("BTC_USDT")).last
    below, far_below, above = ((last * D(f)).quantize(D(1)) for f in ("0.9", "0.8", "1.2"))
    await exchange.balances()
    await exchange.open_orders()
    placed = await exchange.create_order(OrderRequest("BTC_USDT", Side.BUY, OrderType.LIMIT, "safe-1",
                                                      quantity=D("0.01"), price=far_below))
    await exchange.cancel_order(symbol="BTC_USDT", order_id=placed.order_id)
    await exchange.create_order(OrderRequest("BTC_USDT", Side.BUY, OrderType.MARKET, "safe-2", quantity=D("0.01")))
    stop = await exchange.create_trigger_order(TriggerOrderRequest("BTC_USDT", Side.SELL, OrderType.STOP_LOSS,
                                                                   "safe-3", D("0.005"), below))
    await exchange.cancel_order(symbol="BTC_USDT", order_id=stop.order_id)
    oco = await exchange.create_oco(OcoRequest("BTC_USDT", Side.SELL, D("0.005"), above, below,
                                               "safe-tp", "safe-sl"))
    await exchange.cancel_oco(oco.list_id, "BTC_USDT")
    await exchange.create_otoco(OtocoRequest(
        OrderRequest("BTC_USDT", Side.BUY, OrderType.LIMIT, "safe-entry", quantity=D("0.001"), price=far_below),
        stop_loss_trigger=far_below * D("0.9"), take_profit_price=above,
        stop_loss_client_oid="safe-otoco-sl", take_profit_client_oid="safe-otoco-tp"))


@pytest.mark.parametrize("live_trading", ["false", None])
@pytest.mark.parametrize("market_data", ["replay:bot/data/candles", "exchange"])
async def test_keys_without_live_trading_send_nothing_private(recorder: tuple[Recorder, str],
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              live_trading: str | None, market_data: str) -> None:
    rec, url = recorder
    settings = keyed_settings(url, monkeypatch, live_trading)

    exchange = build_exchange(settings, market_data=market_data, store=None, pace_seconds=0)
    try:
        await exercise(exchange)
    finally:
        await exchange.close()

    assert (exchange.name, exchange.mode) == ("paper", "paper")
    assert rec.private == []
    if market_data == "exchange":
        assert rec.requests, "the paper exchange read public data from the configured URL"
        assert all(r["method"] == "GET" and "/public/" in r["path"] for r in rec.requests)
    else:
        assert rec.requests == []


@pytest.mark.parametrize("typo", ["True", "TRUE", "1", "yes", "true "])
def test_anything_but_exact_true_is_refused_at_start(monkeypatch: pytest.MonkeyPatch, typo: str) -> None:
    with pytest.raises(SettingsError):
        keyed_settings("http://127.0.0.1:9/exchange/v1", monkeypatch, typo)


@pytest.mark.parametrize("live_trading", [False, "true", 1])
async def test_adapter_without_live_trading_refuses_every_write_before_sending(
        recorder: tuple[Recorder, str], live_trading: Any) -> None:
    rec, url = recorder
    exchange = CryptoComExchange(KEY, SECRET, api_url=url, ws_url="", live_trading=live_trading)
    writes = [
        exchange.create_order(OrderRequest("BTC_USDT", Side.BUY, OrderType.LIMIT, "w-1", D("0.01"), D("90000"))),
        exchange.create_trigger_order(TriggerOrderRequest("BTC_USDT", Side.SELL, OrderType.STOP_LOSS, "w-2",
                                                          D("0.01"), D("80000"))),
        exchange.create_oco(OcoRequest("BTC_USDT", Side.SELL, D("0.01"), D("120000"), D("80000"), "w-3", "w-4")),
        exchange.create_otoco(OtocoRequest(OrderRequest("BTC_USDT", Side.BUY, OrderType.MARKET, "w-5", D("0.01")),
                                           D("80000"), D("120000"), "w-6", "w-7")),
        exchange.cancel_order(symbol="BTC_USDT", order_id="123"),
        exchange.cancel_oco("456", "BTC_USDT"),
    ]
    try:
        for write in writes:
            with pytest.raises(LiveTradingDisabled):
                await write
        # The transport refuses on its own too: any private method that is not a known read.
        for method in ("private/create-order", "private/advanced/create-oco", "private/create-withdrawal",
                       "private/some-future-method"):
            with pytest.raises(LiveTradingDisabled):
                await exchange.transport.call(method, {"instrument_name": "BTC_USDT"})
    finally:
        await exchange.close()

    assert rec.requests == []


async def test_live_adapter_reads_stay_allowed_without_live_trading(recorder: tuple[Recorder, str]) -> None:
    rec, url = recorder
    exchange = CryptoComExchange(KEY, SECRET, api_url=url, live_trading=False)
    try:
        await exchange.balances()
        await exchange.instruments()
    finally:
        await exchange.close()

    sent = [json.loads(r["body"])["method"] for r in rec.requests if r["body"]]
    assert sent == ["private/user-balance"]
    assert SECRET not in "".join(r["body"] for r in rec.requests)


def test_factory_builds_the_live_adapter_only_for_exact_true(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = keyed_settings("http://127.0.0.1:9/exchange/v1", monkeypatch, "true")

    exchange = build_exchange(settings)

    assert isinstance(exchange, CryptoComExchange) and exchange.live_trading is True
    assert KEY not in repr(exchange) and SECRET not in repr(exchange)
