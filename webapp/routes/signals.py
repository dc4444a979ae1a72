"""The latest decision per coin with its reasons and indicator values, and a coin's candles with the
indicators and the open orders' levels."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from bot.db.models import SignalRecord
from bot.db.repositories.dashboard import InvalidCursor
from webapp.charts import candle_chart
from webapp.context import MiniApp, miniapp_of
from webapp.i18n import gettext as _
from webapp.routes.common import BadRequest, json_ok, parse_limit, parse_symbol, render_view

log = logging.getLogger(__name__)
TIMEFRAMES = ("1m", "5m", "15m", "30m", "1h", "4h", "1d")
MAX_CANDLES = 300
DEFAULT_CANDLES = 120


def signal_json(symbol: str, row: SignalRecord | None) -> dict[str, Any]:
    if row is None:
        return {"symbol": symbol, "decision": None, "price": None, "reasons": [], "indicators": {},
                "candle_time": None, "decided_at": None}
    return {"symbol": symbol, "decision": row.decision, "price": row.price, "reasons": list(row.reasons or []),
            "indicators": dict(row.indicators or {}), "candle_time": row.candle_time, "decided_at": row.decided_at}


async def signals_page(request: web.Request) -> tuple[list[dict[str, Any]], str | None]:
    repo = miniapp_of(request).repository
    try:
        page = await repo.watchlist_page(cursor=request.query.get("cursor") or None, limit=parse_limit(request))
    except InvalidCursor:
        raise BadRequest(_("cursor is not one this list gave out; start again without it")) from None
    symbols = [row.symbol for row in page.items]
    latest = await repo.latest_signals(symbols)
    return [signal_json(s, latest.get(s)) for s in symbols], page.next_cursor


async def candles(request: web.Request, app: MiniApp, symbol: str) -> dict[str, Any]:
    timeframe = request.query.get("timeframe", "1h")
    if timeframe not in TIMEFRAMES:
        raise BadRequest(_("timeframe must be one of {choices}").format(choices=", ".join(TIMEFRAMES)))
    raw_limit = request.query.get("limit", str(DEFAULT_CANDLES))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_CANDLES:
        raise BadRequest(_("limit must be a whole number from 1 to {maximum}").format(maximum=MAX_CANDLES))
    try:
        known = await app.exchange.instruments()
    except Exception:
        log.warning("instruments unavailable for the candle chart", exc_info=True)
        raise web.HTTPServiceUnavailable(text='{"error": "exchange unavailable"}',
                                         content_type="application/json") from None
    if symbol not in known:
        raise BadRequest(_("{symbol} is not traded on the exchange").format(symbol=symbol))
    try:
        rows = await app.exchange.candles(symbol, timeframe, int(raw_limit))
    except Exception:
        log.warning("candles of %s unavailable", symbol, exc_info=True)
        raise web.HTTPServiceUnavailable(text='{"error": "exchange unavailable"}',
                                         content_type="application/json") from None
    indicators = await app.repository.latest_indicators(symbol)
    levels = []
    for order in await app.repository.open_orders_of(symbol):
        level = order.trigger_price or order.price
        if level is not None:
            levels.append({"order_id": order.exchange_order_id, "side": order.side, "role": order.role,
                           "price": level})
    return {"symbol": symbol, "timeframe": timeframe,
            "candles": [{"time": datetime.fromtimestamp(c.timestamp_ms / 1000, UTC), "open": c.open, "high": c.high,
                         "low": c.low, "close": c.close, "volume": c.volume} for c in rows],
            "indicators": dict(indicators.values) if indicators is not None else {},
            "levels": levels, "_candles": rows}


async def get_signals(request: web.Request) -> web.Response:
    items, next_cursor = await signals_page(request)
    return json_ok({"items": items, "next_cursor": next_cursor})


async def get_candles(request: web.Request) -> web.Response:
    symbol = parse_symbol(request, request.match_info["symbol"]) or ""
    data = await candles(request, miniapp_of(request), symbol)
    data.pop("_candles")
    return json_ok(data)


async def view(request: web.Request) -> web.Response:
    items, next_cursor = await signals_page(request)
    return render_view(request, "signals.html", {"items": items, "next_cursor": next_cursor})


async def view_coin(request: web.Request) -> web.Response:
    symbol = parse_symbol(request, request.match_info["symbol"]) or ""
    app = miniapp_of(request)
    data = await candles(request, app, symbol)
    latest = (await app.repository.latest_signals([symbol])).get(symbol)
    chart = None
    if data["_candles"]:
        chart = candle_chart(data["_candles"], [(lvl["role"], Decimal(lvl["price"])) for lvl in data["levels"]])
    return render_view(request, "signal_coin.html", {"data": data, "chart": chart,
                                                     "signal": signal_json(symbol, latest)})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/signals", get_signals)
    app.router.add_get("/api/candles/{symbol}", get_candles)
    app.router.add_get("/api/views/signals", view)
    app.router.add_get("/api/views/signals/{symbol}", view_coin)
