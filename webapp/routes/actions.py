"""Protect through preview + confirm: the same confirmation service as the bot's buttons, never a
one-click order. The preview names the exact quantity, stop, target and mode; only the confirm of
that preview (by the same person, before it expires) touches the exchange."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from webapp.context import miniapp_of
from webapp.i18n import gettext as _
from webapp.routes.common import BadRequest, json_ok, parse_symbol, viewer_id
from webapp.routes.events import publish_change

ACTION_ID = re.compile(r"^[A-Za-z0-9_-]{1,24}$")
GROUP_ID = re.compile(r"^[A-Za-z0-9_-]{0,40}$")


def _unavailable(request: web.Request) -> web.Response:
    return web.json_response({"error": "unavailable",
                              "message": _("Protecting from the Mini App is not available yet; "
                                                    "use the Protect button in the chat.")}, status=503)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json(loads=json.loads)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(_("the body must be JSON")) from None
    if not isinstance(body, dict):
        raise BadRequest(_("send a JSON object"))
    return body


async def post_protect(request: web.Request) -> web.Response:
    body = await _body(request)
    raw_symbol = body.get("symbol")
    if not isinstance(raw_symbol, str):
        raise BadRequest(_("{name} must be a pair such as BTC_USDT").format(name="symbol"))
    symbol = parse_symbol(request, raw_symbol)
    if symbol is None:
        raise BadRequest(_("{name} must be a pair such as BTC_USDT").format(name="symbol"))
    group = body.get("group", "")
    if not isinstance(group, str) or not GROUP_ID.match(group):
        raise BadRequest(_("group must be an OCO group id"))
    actions = miniapp_of(request).actions
    if actions is None:
        return _unavailable(request)
    preview = await actions.preview_protect(viewer_id(request), symbol=symbol, group=group or None)
    return json_ok(preview)


async def post_confirm(request: web.Request) -> web.Response:
    action_id = request.match_info["action_id"]
    if not ACTION_ID.match(action_id):
        raise BadRequest(_("unknown action"))
    actions = miniapp_of(request).actions
    if actions is None:
        return _unavailable(request)
    result = await actions.confirm(viewer_id(request), action_id)
    publish_change(request.app, "orders", "dashboard")
    return json_ok(result)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/actions/protect", post_protect)
    app.router.add_post("/api/actions/{action_id}/confirm", post_confirm)
