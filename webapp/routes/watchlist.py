"""The watchlist, editable: Trade / Alert / Margin toggles, amount in USD, SL % and TP %.

A PATCH is validated whole before anything is stored: a wrong type, an out-of-range number or a
coin not on the watchlist is a 400 with a message in the reader's language, and nothing changes.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from bot.db.dashboard_repository import InvalidCursor, WatchlistWrites
from bot.db.models import WatchlistEntry
from webapp.context import miniapp_of
from webapp.i18n import gettext as _
from webapp.routes.common import BadRequest, json_ok, parse_limit, parse_symbol, render_view
from webapp.routes.events import publish_change

TOGGLES = ("trade_enabled", "alert_enabled", "margin_enabled")
# (lowest, highest) accepted; the same bounds as the bot's watchlist editor.
NUMBERS = {"amount_usd": (Decimal(0), Decimal(1_000_000)), "stop_loss_percent": (Decimal("0.1"), Decimal(50)),
           "take_profit_percent": (Decimal("0.1"), Decimal(100))}


def entry_json(row: WatchlistEntry) -> dict[str, Any]:
    return {"symbol": row.symbol, "trade_enabled": row.trade_enabled, "alert_enabled": row.alert_enabled,
            "margin_enabled": row.margin_enabled, "amount_usd": row.amount_usd,
            "stop_loss_percent": row.stop_loss_percent, "take_profit_percent": row.take_profit_percent,
            "max_open_orders": row.max_open_orders, "timeframe": row.timeframe, "updated_at": row.updated_at}


def validate_changes(request: web.Request, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not body:
        raise BadRequest(_("send a JSON object with the fields to change"))
    changes: dict[str, Any] = {}
    for name, value in body.items():
        if name in TOGGLES:
            if not isinstance(value, bool):
                raise BadRequest(_("{field} must be true or false").format(field=name))
            changes[name] = value
        elif name in NUMBERS:
            low, high = NUMBERS[name]
            number = _decimal(value)
            if number is None:
                raise BadRequest(_("{field} must be a number").format(field=name))
            if not low <= number <= high:
                raise BadRequest(_("{field} must be between {low} and {high}").format(
                    field=name, low=low, high=high))
            changes[name] = number.quantize(Decimal("0.01"))
        else:
            raise BadRequest(_("{field} cannot be changed here").format(field=str(name)[:40]))
    return changes


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


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
    changes = validate_changes(request, body)
    writes = WatchlistWrites()
    if await writes.get(symbol) is None:
        raise BadRequest(_("{symbol} is not on the watchlist").format(symbol=symbol))
    row = await writes.update(symbol, changes)
    if row is None:
        raise BadRequest(_("{symbol} is not on the watchlist").format(symbol=symbol))
    publish_change(request.app, "watchlist")
    return json_ok(entry_json(row))


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
