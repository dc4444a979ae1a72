"""The OpenAPI 3.1 document of the Mini App's JSON API, served at /api/openapi.json.

Written by hand next to the routes and checked against them: a test compares the application's
/api/ routes with this document's paths and methods, and schemathesis fuzzes every operation
from it (no 500s, answers matching the schemas).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.db.repositories.dashboard import MAX_LIMIT

DECIMAL = {"type": "string", "pattern": r"^-?\d+(\.\d+)?(E[+-]?\d+)?$"}
OPT_DECIMAL = {"anyOf": [DECIMAL, {"type": "null"}]}
TIME = {"type": "string", "format": "date-time"}
OPT_TIME = {"anyOf": [TIME, {"type": "null"}]}
OPT_STR = {"type": ["string", "null"]}
CURSOR = {"type": ["string", "null"], "description": "opaque; pass it back as `cursor` for the next page; "
                                                      "null on the last page"}
ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"},
                                                                   "message": {"type": "string"}}}
ORDER = {"type": "object", "required": ["order_id", "symbol", "side", "type", "status", "quantity"], "properties": {
    "order_id": {"type": "string"}, "client_oid": OPT_STR, "symbol": {"type": "string"},
    "side": {"enum": ["BUY", "SELL"]}, "type": {"type": "string"}, "status": {"type": "string"},
    "role": {"type": "string"}, "source": {"type": "string"}, "quantity": DECIMAL, "filled_quantity": DECIMAL,
    "price": OPT_DECIMAL, "trigger_price": OPT_DECIMAL, "avg_price": OPT_DECIMAL, "value": DECIMAL, "fee": DECIMAL,
    "fee_currency": OPT_STR, "created_at": OPT_TIME, "group_id": OPT_STR}}
PROBLEM = {"type": "object", "required": ["kind", "symbol", "detail"], "properties": {
    "kind": {"enum": ["orphan_leg", "incomplete_group", "quantity_mismatch", "both_filled"]},
    "symbol": {"type": "string"}, "group_id": OPT_STR, "order_ids": {"type": "array", "items": {"type": "string"}},
    "detail": {"type": "string"}}}
GROUP = {"type": "object", "required": ["group_id", "symbol", "state", "legs", "problems"], "properties": {
    "group_id": {"type": "string"}, "symbol": {"type": "string"}, "state": {"type": "string"},
    "quantity": DECIMAL, "entry_price": DECIMAL, "stop_loss_price": DECIMAL, "take_profit_price": DECIMAL,
    "current_price": OPT_DECIMAL, "pnl": OPT_DECIMAL, "pnl_percent": OPT_DECIMAL,
    "legs": {"type": "array", "items": ORDER}, "problems": {"type": "array", "items": PROBLEM}}}
UNPROTECTED = {"type": "object", "required": ["asset", "symbol", "quantity"], "properties": {
    "asset": {"type": "string"}, "symbol": {"type": "string"}, "quantity": DECIMAL, "price": OPT_DECIMAL,
    "value_at_risk_usd": OPT_DECIMAL}}
WATCH_ENTRY = {"type": "object", "required": ["symbol", "trade_enabled", "alert_enabled", "margin_enabled"],
               "properties": {
                   "symbol": {"type": "string"}, "trade_enabled": {"type": "boolean"},
                   "alert_enabled": {"type": "boolean"}, "margin_enabled": {"type": "boolean"},
                   "amount_usd": DECIMAL, "stop_loss_percent": DECIMAL, "take_profit_percent": DECIMAL,
                   "max_open_orders": {"type": "integer"}, "timeframe": {"type": "string"},
                   "updated_at": OPT_TIME}}
WATCH_PATCH = {"type": "object", "minProperties": 1, "additionalProperties": False, "properties": {
    "trade_enabled": {"type": "boolean"}, "alert_enabled": {"type": "boolean"}, "margin_enabled": {"type": "boolean"},
    "amount_usd": {"type": ["number", "string"], "description": "more than 0, at most 1,000,000, 2 decimals"},
    "stop_loss_percent": {"type": ["number", "string"], "description": "more than 0, at most 90, 2 decimals"},
    "take_profit_percent": {"type": ["number", "string"], "description": "more than 0, at most 1,000, 2 decimals"}}}
SIGNAL = {"type": "object", "required": ["symbol", "decision", "reasons", "indicators"], "properties": {
    "symbol": {"type": "string"}, "decision": {"enum": ["BUY", "SELL", "WAIT", None]}, "price": OPT_DECIMAL,
    "reasons": {"type": "array"}, "indicators": {"type": "object"}, "candle_time": OPT_TIME,
    "decided_at": OPT_TIME}}

LINES = {"type": "array", "items": {"type": "string"}, "description": "what to show, in the reader's language"}
PREVIEW = {"type": "object", "required": ["action_id", "kind", "mode", "expires_at", "lines"], "properties": {
    "action_id": {"type": "string"}, "kind": {"type": "string"}, "mode": {"enum": ["paper", "live"]},
    "expires_at": TIME, "lines": LINES, "protect": {"type": "object"}}}
RESULT = {"type": "object", "required": ["outcome", "ok", "lines"], "properties": {
    "outcome": {"enum": ["done", "unconfirmed", "already_done", "in_progress", "failed", "expired", "dismissed",
                         "foreign", "not_found"]}, "ok": {"type": "boolean"}, "lines": LINES}}


def _page_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["items", "next_cursor"],
            "properties": {"items": {"type": "array", "items": item}, "next_cursor": CURSOR}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _path(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


LIMIT = _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, f"rows per page (default 50, "
               f"at most {MAX_LIMIT}; more is a 400, never a silent cap)")
CURSOR_Q = _query("cursor", {"type": "string"}, "next_cursor of the previous page")
SYMBOL_PATH = _path("symbol", {"type": "string", "pattern": "^[A-Za-z0-9]{1,20}_[A-Za-z0-9]{1,20}$"})
ORDER_FILTERS = [
    _query("symbol", {"type": "string"}, "e.g. BTC_USDT"),
    _query("side", {"enum": ["BUY", "SELL"]}, "BUY or SELL"),
    _query("status", {"enum": ["FILLED", "CANCELED", "REJECTED", "EXPIRED"]}, "final status"),
    _query("from", {"type": "string"}, "created at or after (ISO 8601 date or date-time; UTC when no zone)"),
    _query("to", {"type": "string"}, "created before (ISO 8601)"),
    _query("sort", {"enum": ["desc", "asc"]}, "by creation time: desc (newest first, default) or asc"),
]
RANGE = [_query("from", {"type": "string"}, "ISO 8601 (default: 30 days ago)"),
         _query("to", {"type": "string"}, "ISO 8601")]
HTML = {"content": {"text/html": {"schema": {"type": "string"}}}}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _op(summary: str, ok: dict[str, Any], *, params: list[dict[str, Any]] | None = None,
        body: dict[str, Any] | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": ok, "401": _json(ERROR, "no, forged, expired or foreign initData")}
    if params or body:
        responses["400"] = _json(ERROR, "a parameter or the body is refused (message says why)")
    responses.update(extra or {})
    op: dict[str, Any] = {"summary": summary, "security": [{"tma": []}], "responses": responses}
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


def _view(summary: str, params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"get": _op(summary, {"description": "the page's content, server-rendered", **HTML}, params=params)}


UNAVAILABLE = {"503": _json(ERROR, "the exchange or the service is unavailable")}


def document() -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/api/dashboard/state": {"get": _op("Counts, totals, health", _json({"type": "object", "required": [
            "mode", "portfolio", "counts", "sync"]}))},
        "/api/orders/open": {"get": _op("Open orders grouped by OCO group, unprotected positions, problems", _json({
            "type": "object", "required": ["groups", "orders", "unprotected", "problems"], "properties": {
                "groups": {"type": "array", "items": GROUP}, "orders": {"type": "array", "items": ORDER},
                "unprotected": {"type": "array", "items": UNPROTECTED},
                "problems": {"type": "array", "items": PROBLEM}}}))},
        "/api/orders/executed": {"get": _op("Executed orders, keyset-paginated", _json(_page_of(ORDER)),
                                            params=[*ORDER_FILTERS, LIMIT, CURSOR_Q])},
        "/api/orders/executed.csv": {"get": _op("The filtered executed orders as CSV (streamed)", {
            "description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}, params=ORDER_FILTERS)},
        "/api/portfolio": {"get": _op("Assets with quantity, USD value and share", _json({
            "type": "object", "required": ["taken_at", "total_usd", "assets", "unpriced_assets"]}))},
        "/api/portfolio/history": {"get": _op("Portfolio value over time (stored snapshots), oldest first",
                                              _json(_page_of({"type": "object", "required": ["taken_at", "total_usd"],
                                                              "properties": {"taken_at": TIME,
                                                                             "total_usd": DECIMAL}})),
                                              params=[*RANGE, LIMIT, CURSOR_Q])},
        "/api/watchlist": {"get": _op("The watchlist", _json(_page_of(WATCH_ENTRY)), params=[LIMIT, CURSOR_Q])},
        "/api/watchlist/{symbol}": {"patch": _op("Edit a coin's toggles, amount, SL % and TP %", _json(WATCH_ENTRY),
                                                 params=[SYMBOL_PATH], body=WATCH_PATCH)},
        "/api/signals": {"get": _op("The latest decision per watched coin", _json(_page_of(SIGNAL)),
                                    params=[LIMIT, CURSOR_Q])},
        "/api/candles/{symbol}": {"get": _op("A coin's candles, indicators and open orders' levels", _json({
            "type": "object", "required": ["symbol", "timeframe", "candles", "indicators", "levels"]}), params=[
            SYMBOL_PATH, _query("timeframe", {"enum": ["1m", "5m", "15m", "30m", "1h", "4h", "1d"]}, "default 1h"),
            _query("limit", {"type": "integer", "minimum": 1, "maximum": 300}, "candles (default 120)")],
            extra=UNAVAILABLE)},
        "/api/actions/protect": {"post": _op(
            "Preview protecting what of a coin is held but not covered: the exact orders, an action id to confirm",
            _json(PREVIEW), body={"type": "object", "required": ["symbol"], "properties": {
                "symbol": {"type": "string", "description": "the market to protect on, e.g. BTC_USDT"}}},
            extra={**UNAVAILABLE, "409": _json(ERROR, "nothing to protect, or not possible (message says why)")})},
        "/api/actions/{action_id}/confirm": {"post": _op(
            "Confirm a previewed action (its owner, within 5 minutes; a repeated confirm does nothing twice)",
            _json(RESULT), params=[_path("action_id", {"type": "string"})],
            extra={**UNAVAILABLE, "404": _json(RESULT, "no such action, or not yours: nothing was done")})},
        "/api/events": {"get": _op("Server-sent events naming what changed", {
            "description": "an event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}})},
        "/api/views/dashboard": _view("Dashboard page"),
        "/api/views/orders/open": _view("Open orders page"),
        "/api/views/orders/executed": _view("Executed orders page", [*ORDER_FILTERS, LIMIT, CURSOR_Q]),
        "/api/views/portfolio": _view("Portfolio page", RANGE),
        "/api/views/watchlist": _view("Watchlist page", [LIMIT, CURSOR_Q]),
        "/api/views/signals": _view("Signals page", [LIMIT, CURSOR_Q]),
        "/api/views/signals/{symbol}": _view("A coin's chart page", [SYMBOL_PATH]),
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "cryptobot Mini App API", "version": "1",
                 "description": "Every operation needs `Authorization: tma <initData>` (Telegram's launch data: "
                                "valid signature, at most 24 h old, an allowed user); anything else is a 401 "
                                "with no data. Money and quantities are decimal strings."},
        "components": {"securitySchemes": {"tma": {"type": "apiKey", "in": "header", "name": "Authorization",
                                                   "description": "tma <initData>"}}},
        "paths": paths,
    }


async def get_document(request: web.Request) -> web.Response:
    return web.json_response(document())


def add_openapi_route(app: web.Application) -> None:
    app.router.add_get("/api/openapi.json", get_document)
