"""Market-data feeds: replayed candle files (exact numbers, clock, visibility) and crypto.com's public
REST endpoints, the latter against a local aiohttp server only."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.domain.orders import OrderStatus, OrderType, Side
from bot.exchange.base import OrderRequest
from bot.exchange.marketdata import ExchangePublicMarketData, ReplayMarketData, instrument_for, timeframe_ms
from bot.exchange.paper import PaperExchange
from tests.conftest import candles_dir

D = Decimal


@pytest.fixture
def replay_dir(tmp_path: Path) -> Path:
    for name in ("BTC_USDT-1h.csv", "DOGE_USDT-1h.csv"):
        shutil.copy(candles_dir() / name, tmp_path / name)
    return tmp_path


def test_timeframes() -> None:
    assert timeframe_ms("5m") == 300_000 and timeframe_ms("1h") == timeframe_ms("H1") == 3_600_000
    assert timeframe_ms("1D") == 86_400_000


async def test_replay_parses_numbers_exactly_and_shows_only_closed_candles(replay_dir: Path) -> None:
    feed = ReplayMarketData(replay_dir, warmup=10)
    first = feed.series["BTC_USDT"][0]
    assert (first.timestamp_ms, first.open, first.high, first.low, first.close, first.volume) == (
        1704067200000, D("42283.58"), D("42554.57"), D("42261.02"), D("42475.23"), D("1271.68108"))
    visible = await feed.candles("BTC_USDT", "1h", limit=500)
    assert len(visible) == 11 and visible[-1].timestamp_ms + 3_600_000 == feed.now_ms
    assert await feed.latest_price("BTC_USDT") == visible[-1].close
    step = await feed.step()
    assert step.candles["BTC_USDT"] == [feed.series["BTC_USDT"][11]]
    assert len(await feed.candles("BTC_USDT", "1h", limit=3)) == 3
    since = await feed.candles("BTC_USDT", "1h", since_ms=visible[5].timestamp_ms)
    assert since[0] == visible[5] and len(since) == 7
    tickers = await feed.tickers()
    assert tickers["DOGE_USDT"].last == (await feed.candles("DOGE_USDT", "1h", 1))[0].close


def test_instruments_from_the_data(replay_dir: Path) -> None:
    btc = instrument_for("BTC_USDT", ReplayMarketData(replay_dir).series["BTC_USDT"])
    assert (btc.base, btc.quote, btc.price_tick, btc.qty_tick, btc.min_notional) == (
        "BTC", "USDT", D("0.01"), D("0.00001"), D(1))


def test_instruments_for_cheap_coins(replay_dir: Path) -> None:
    doge = instrument_for("DOGE_USDT", ReplayMarketData(replay_dir).series["DOGE_USDT"])
    assert doge.qty_tick == D(1) and doge.price_tick <= D("0.00001")


def public_api() -> web.Application:
    """The three public endpoints as crypto.com answers them (shapes from the v1 docs)."""
    async def instruments(request: web.Request) -> web.Response:
        return web.json_response({"id": 1, "method": "public/get-instruments", "code": 0, "result": {"data": [
            {"symbol": "BTC_USDT", "inst_type": "CCY_PAIR", "base_ccy": "BTC", "quote_ccy": "USDT",
             "price_tick_size": "0.01", "qty_tick_size": "0.00001", "tradable": True},
            {"symbol": "BTCUSD-PERP", "inst_type": "PERPETUAL_SWAP", "base_ccy": "BTC", "quote_ccy": "USD",
             "price_tick_size": "0.1", "qty_tick_size": "0.0001", "tradable": True}]}})

    async def tickers(request: web.Request) -> web.Response:
        rows: list[dict[str, Any]] = [
            {"i": "BTC_USDT", "h": "61000.00", "l": "59000.00", "a": "60123.45", "v": "12.5", "b": "60123.44",
             "k": "60123.46", "t": 1717821900000},
            {"i": "ETH_USDT", "h": None, "l": None, "a": None, "v": "0", "t": 1717821900000}]
        wanted = request.query.get("instrument_name")
        return web.json_response({"code": 0, "result": {"data": [r for r in rows if not wanted or r["i"] == wanted]}})

    async def candles(request: web.Request) -> web.Response:
        assert request.query["instrument_name"] == "BTC_USDT" and request.query["timeframe"] == "1h"
        count = int(request.query["count"])
        data = [{"t": 1717821600000 + i * 3_600_000, "o": "69352.59", "h": "69400", "l": "69337.14",
                 "c": "69340.0", "v": "67.02964"} for i in range(5)]
        return web.json_response({"code": 0, "result": {"interval": "1h", "instrument_name": "BTC_USDT",
                                                        "data": data[-count:]}})

    async def missing(request: web.Request) -> web.Response:
        return web.json_response({"code": 209, "message": "INVALID_INSTRUMENT"})

    app = web.Application()
    app.router.add_get("/exchange/v1/public/get-instruments", instruments)
    app.router.add_get("/exchange/v1/public/get-tickers", tickers)
    app.router.add_get("/exchange/v1/public/get-candlestick", candles)
    app.router.add_get("/exchange/v1/public/get-book", missing)
    return app


async def test_public_rest_feed_against_a_local_server(aiohttp_server: Any) -> None:
    server = await aiohttp_server(public_api())
    feed = ExchangePublicMarketData(str(server.make_url("/exchange/v1")))
    try:
        instruments = await feed.instruments()
        assert list(instruments) == ["BTC_USDT"] and instruments["BTC_USDT"].qty_tick == D("0.00001")
        tickers = await feed.tickers()
        assert tickers["BTC_USDT"].last == D("60123.45") and tickers["ETH_USDT"].last is None
        assert await feed.latest_price("BTC_USDT") == D("60123.45")
        candles = await feed.candles("BTC_USDT", "1h", limit=3)
        assert [c.close for c in candles] == [D("69340.0")] * 3 and candles[0].volume == D("67.02964")
        step = await feed.step()
        assert step.prices == {"BTC_USDT": D("60123.45")}
    finally:
        await feed.close()


async def test_paper_exchange_on_the_public_feed(aiohttp_server: Any) -> None:
    server = await aiohttp_server(public_api())
    feed = ExchangePublicMarketData(str(server.make_url("/exchange/v1")))
    paper = PaperExchange(feed, {"USDT": D(1000)}, maker_fee_percent=D("0.25"), taker_fee_percent=D("0.5"),
                          slippage_percent=D(0), pace_seconds=0)
    order = await paper.create_order(OrderRequest("BTC_USDT", Side.BUY, OrderType.MARKET, "m", quantity=D("0.001")))
    assert order.status is OrderStatus.FILLED and order.avg_price == D("60123.45")
    assert (await paper.ticker("BTC_USDT")).last == D("60123.45")
    await paper.advance()
    await paper.close()
