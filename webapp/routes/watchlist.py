"""The watchlist, editable: Trade / Alert / Margin toggles, amount in USD, SL % and TP %.

A PATCH is validated whole before anything is stored: a wrong type, an out-of-range number or a
coin not on the watchlist is a 400 with a message in the reader's language, and nothing changes.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from aiohttp import web

from bot.db.models import WatchlistEntry
from bot.db.repositories.dashboard import InvalidCursor
from bot.domain.input_rules import Invalid
from bot.presentation.input_errors import invalid_text
from bot.services.watchlist import CoinSettings, WatchlistService
from webapp.context import miniapp_of
from webapp.i18n import Translator
from webapp.i18n import gettext as _
from webapp.routes.common import BadRequest, json_ok, parse_limit, parse_symbol, render_view

# The API's names (as GET shows them) and the service's.
FLAGS = {"trade_enabled": "trade", "alert_enabled": "alert", "margin_enabled": "margin"}
NUMBERS = ("amount_usd", "stop_loss_percent", "take_profit_percent")


def entry_json(row: WatchlistEntry | CoinSettings) -> dict[str, Any]:
    if isinstance(row, CoinSettings):
        return {"symbol": row.symbol, "trade_enabled": row.trade, "alert_enabled": row.alert,
                "margin_enabled": row.margin, "amount_usd": row.amount_usd, "stop_loss_percent": row.stop_loss_percent,
                "take_profit_percent": row.take_profit_percent, "timeframe": row.timeframe}
    return {"symbol": row.symbol, "trade_enabled": row.trade_enabled, "alert_enabled": row.alert_enabled,
            "margin_enabled": row.margin_enabled, "amount_usd": row.amount_usd,
            "stop_loss_percent": row.stop_loss_percent, "take_profit_percent": row.take_profit_percent,
            "max_open_orders": row.max_open_orders, "timeframe": row.timeframe, "updated_at": row.updated_at}


def typed_changes(body: Any) -> dict[str, object]:
    """JSON types first (a flag is true/false, a number a number or a numeric string); the values
    themselves are the watchlist service's to judge, with the bot's rules and words."""
    if not isinstance(body, dict) or not body:
        raise BadRequest(_("send a JSON object with the fields to change"))
    changes: dict[str, object] = {}
    for name, value in body.items():
        if name in FLAGS:
            if not isinstance(value, bool):
                raise BadRequest(_("{field} must be true or false").format(field=name))
            changes[FLAGS[name]] = value
        elif name in NUMBERS:
            if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
                raise BadRequest(_("{field} must be a number").format(field=name))
            changes[name] = str(value) if isinstance(value, Decimal) else value
        else:
            raise BadRequest(_("{field} cannot be changed here").format(field=str(name)[:40]))
    return changes


def refusal(invalid: Invalid) -> str:
    text = invalid_text(invalid, _, Translator.current())
    field = next((api for api, service in FLAGS.items() if service == invalid.field), invalid.field)
    return f"{field}: {text}" if field and field != "symbol" else text


async def get_watchlist(request: web.Request) -> web.Response:
    try:
        page = await miniapp_of(request).repository.watchlist_page(
            cursor=request.query.get("cursor") or None, limit=parse_limit(request))
    except InvalidCursor:
        raise BadRequest(_("cursor is not one this list gave out; start again without it")) from None
    return json_ok({"items": [entry_json(r) for r in page.items], "next_cursor": page.next_cursor})


async def patch_entry(request: web.Request) -> web.Response:
    symbol = parse_symbol(request, request.match_info["symbol"]) or ""
    try:
        body = await request.json(loads=lambda text: json.loads(text, parse_float=Decimal))
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(_("the body must be JSON")) from None
    service: WatchlistService = miniapp_of(request).watchlist
    result = await service.update(symbol, typed_changes(body), locale=Translator.current())
    if isinstance(result, Invalid):
        raise BadRequest(refusal(result))
    return json_ok(entry_json(result))


async def view(request: web.Request) -> web.Response:
    try:
        page = await miniapp_of(request).repository.watchlist_page(
            cursor=request.query.get("cursor") or None, limit=parse_limit(request))
    except InvalidCursor:
        raise BadRequest(_("cursor is not one this list gave out; start again without it")) from None
    return render_view(request, "watchlist.html", {"rows": [entry_json(r) for r in page.items],
                                                   "next_cursor": page.next_cursor})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/watchlist", get_watchlist)
    app.router.add_patch("/api/watchlist/{symbol}", patch_entry)
    app.router.add_get("/api/views/watchlist", view)
