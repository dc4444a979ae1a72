"""Protect through preview + confirm: the same ActionService as the bot's buttons, never a one-click
order. The preview names the exact quantity, stop, target and mode; only the confirm of that preview
(by the same person, within its 5 minutes) touches the exchange, and a repeated or concurrent
confirm runs it once. Words are the bot's own (same catalog entries), as plain lines."""

from __future__ import annotations

import json
import logging
import re
from decimal import Decimal
from typing import Any

from aiohttp import web

from bot.domain.actions import TEMPLATES as ACTION_TEMPLATES
from bot.domain.actions import ActionPreview, ActionRefused, ActionResult, CompleteDetails, Outcome, ProtectDetails
from bot.domain.reasons import TEMPLATES as PROTECTION_TEMPLATES
from bot.exchange.codes import message_key
from bot.exchange.errors import ExchangeError
from bot.services.actions import ActionService
from webapp.context import miniapp_of
from webapp.i18n import gettext as _
from webapp.routes.common import BadRequest, Formats, json_ok, parse_symbol, reader_formats, viewer_id
from webapp.routes.events import publish_change

log = logging.getLogger(__name__)
ACTION_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def reason_text(key: str | None, args: tuple[tuple[str, str], ...] | dict[str, str]) -> str:
    values = dict(args)
    if key is None or key == "as_text":
        return values.get("text", "")
    if "why_key" in values:
        # A reason inside a reason (why a replacement was not placed): worded first, on its own.
        why_key = values.pop("why_key")
        values["why"] = reason_text(why_key, {k: v for k, v in values.items()})
    template = ACTION_TEMPLATES.get(key) or PROTECTION_TEMPLATES.get(key)
    if template is None:
        return key
    code = values.get("code", "")
    wording = message_key(code) if code else None
    if wording is not None:
        values["exchange"] = f"{_(wording)} ({code})"
    try:
        return _(template).format(**values)
    except (KeyError, IndexError, ValueError):
        return template


def mode_word(mode: str) -> str:
    return _("LIVE") if mode == "live" else _("Paper")


def protect_lines(p: ProtectDetails, mode: str, fmt: Formats) -> list[str]:
    lines = [f"{_('Protect {asset}').format(asset=p.base)} · {mode_word(mode)}",
             _("Sell {quantity} on {symbol} when either price is reached:").format(
                 quantity=fmt.quantity(p.quantity, p.base), symbol=p.symbol),
             f"{_('Stop-loss')} {fmt.price(p.stop_loss, p.quote)} (−{fmt.percent(p.stop_loss_percent)})",
             f"{_('Take-profit')} {fmt.price(p.take_profit, p.quote)} (+{fmt.percent(p.take_profit_percent)})"]
    around = _("around your last buy's price, {price}") if p.reference == "entry" else \
        _("around the current price, {price}")
    lines.append(around.format(price=fmt.price(p.reference_price, p.quote)))
    lines.append(_("As one native OCO order: the exchange cancels the other leg when one fills.") if p.native_oco
                 else _("As two linked orders: the bot cancels the other when one fills."))
    if p.shortfall_key:
        lines.append("⚠ " + reason_text(p.shortfall_key, p.shortfall_args))
    return lines


def complete_lines(c: CompleteDetails, mode: str, fmt: Formats) -> list[str]:
    """The bot's own preview of completing a lone stop-loss, as plain lines."""
    quantity = fmt.quantity(c.quantity, c.base)
    lines = [f"{_('Complete the protection: {asset}').format(asset=c.base)} · {mode_word(mode)}",
             _("On the exchange now: a stop-loss at {stop} for {quantity} (#{order}), no take-profit.").format(
                 stop=fmt.price(c.stop_loss, c.quote), quantity=quantity, order=c.stop_loss_order_id),
             _("Will do: cancel that stop-loss, then place the full protection of {quantity} on {symbol} at the same "
               "prices:").format(quantity=quantity, symbol=c.symbol),
             f"{_('Stop-loss')} {fmt.price(c.stop_loss, c.quote)}",
             f"{_('Take-profit')} {fmt.price(c.take_profit, c.quote)}",
             _("As one native OCO order where the exchange takes it; else as two linked orders, as the bot places "
               "them after a buy.")]
    if not c.native_oco:
        lines.append(_("The exchange refused the native OCO the last time: with two linked orders it may refuse the "
                       "take-profit again, and the stop-loss alone stands again."))
    lines.append("⚠ " + _("For a moment, between the cancel and the new orders, the {quantity} are not protected. If "
                          "the new orders are refused, they stay unprotected and you are told here.").format(
                              quantity=quantity))
    return lines


def preview_json(preview: ActionPreview, fmt: Formats) -> dict[str, Any]:
    body: dict[str, Any] = {"action_id": preview.action_id, "kind": preview.kind.value, "mode": preview.mode,
                            "expires_at": preview.expires_at, "lines": []}
    if preview.protect is not None:
        p = preview.protect
        body["protect"] = {"symbol": p.symbol, "quantity": p.quantity, "stop_loss": p.stop_loss,
                           "take_profit": p.take_profit, "reference_price": p.reference_price,
                           "native_oco": p.native_oco}
        body["lines"] = protect_lines(p, preview.mode, fmt)
    elif preview.complete is not None:
        c = preview.complete
        body["complete"] = {"symbol": c.symbol, "quantity": c.quantity, "stop_loss": c.stop_loss,
                            "take_profit": c.take_profit, "group_id": c.group_id, "native_oco": c.native_oco}
        body["lines"] = complete_lines(c, preview.mode, fmt)
    return body


def result_lines(result: ActionResult, fmt: Formats) -> list[str]:
    outcome = result.outcome
    if outcome in (Outcome.FOREIGN, Outcome.NOT_FOUND):
        return [_("This button is not yours, or its action no longer exists: nothing was done.")]
    if outcome is Outcome.EXPIRED:
        return [_("This confirmation expired after 5 minutes: nothing was sent. Ask again from /orders.")]
    if outcome is Outcome.DISMISSED:
        return [_("Canceled: nothing was sent.")]
    if outcome is Outcome.IN_PROGRESS:
        return [_("Already being done (another press or device): nothing is sent twice.")]
    if outcome is Outcome.FAILED and result.reason_key == "completion_not_placed":
        values = dict(result.reason_args)
        coin = values.get("coin", "")
        values["unprotected"] = fmt.quantity(Decimal(values.get("unprotected", "0")), coin)
        return [_("{asset} is not protected").format(asset=coin), reason_text(result.reason_key, values)]
    if outcome is Outcome.FAILED and result.reason_key == "take_profit_refused_again":
        return [_("Protection still incomplete"), reason_text(result.reason_key, result.reason_args)]
    if outcome is Outcome.FAILED:
        return [_("Not done"), reason_text(result.reason_key, result.reason_args)]
    if outcome is Outcome.UNCONFIRMED:
        return [_("Sent, not confirmed yet"), reason_text(result.reason_key, result.reason_args)]
    lines = []
    action = result.action
    if action is not None and action.protect is not None:
        p = action.protect
        how = _("native OCO") if result.native_oco else _("two linked orders")
        lines.append(f"{_('Protected')}: {fmt.quantity(p.quantity, p.base)} {p.symbol} · SL "
                     f"{fmt.price(p.stop_loss, p.quote)} · TP {fmt.price(p.take_profit, p.quote)} · {how}")
    if action is not None and action.complete is not None:
        c = action.complete
        placed = dict(result.reason_args).get("quantity")
        quantity = Decimal(placed) if placed else c.quantity
        how = _("native OCO") if result.native_oco else _("two linked orders")
        lines.append(f"{_('Protection completed')}: {fmt.quantity(quantity, c.base)} {c.symbol} · SL "
                     f"{fmt.price(c.stop_loss, c.quote)} · TP {fmt.price(c.take_profit, c.quote)} · {how}")
        lines.append(_("The lone stop-loss was canceled and replaced by this protection."))
    if outcome is Outcome.ALREADY_DONE:
        lines.append(_("Already done: nothing was sent again."))
    return lines


def _unavailable() -> web.Response:
    return web.json_response({"error": "unavailable", "message": reason_text("exchange_unavailable", {
        "exchange": "—"})}, status=503)


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json(loads=json.loads)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(_("the body must be JSON")) from None
    if not isinstance(body, dict):
        raise BadRequest(_("send a JSON object"))
    return body


async def post_protect(request: web.Request) -> web.Response:
    body = await _json_object(request)
    raw = body.get("symbol")
    symbol = parse_symbol(request, raw) if isinstance(raw, str) else None
    if symbol is None:
        raise BadRequest(_("{name} must be a pair such as BTC_USDT").format(name="symbol"))
    group = body.get("group")
    if group is not None and (not isinstance(group, str) or not ACTION_ID.match(group)):
        raise BadRequest(_("unknown group"))
    actions: ActionService = miniapp_of(request).actions
    try:
        # With a group standing as a stop-loss only (or none named while nothing of the coin is
        # unprotected), the preview completes that protection instead.
        preview = await actions.preview_protect(viewer_id(request), symbol, group or None)
    except ActionRefused as refused:
        return web.json_response({"error": "refused", "message": reason_text(refused.key, refused.arguments)},
                                 status=409)
    except ExchangeError:
        log.warning("protect preview of %s: the exchange did not answer", symbol, exc_info=True)
        return _unavailable()
    return json_ok(preview_json(preview, reader_formats(request)))


async def post_confirm(request: web.Request) -> web.Response:
    action_id = request.match_info["action_id"]
    if not ACTION_ID.match(action_id):
        raise BadRequest(_("unknown action"))
    actions: ActionService = miniapp_of(request).actions
    try:
        result = await actions.confirm(action_id, viewer_id(request))
    except ExchangeError:
        log.warning("confirm of %s: the exchange did not answer", action_id, exc_info=True)
        return _unavailable()
    if result.outcome in (Outcome.DONE, Outcome.UNCONFIRMED):
        publish_change(request.app, "orders", "dashboard")
    body = {**result.as_json(), "ok": result.ok, "lines": result_lines(result, reader_formats(request))}
    status = 404 if result.outcome in (Outcome.FOREIGN, Outcome.NOT_FOUND) else 200
    return json_ok(body, status=status)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/actions/protect", post_protect)
    app.router.add_post("/api/actions/{action_id}/confirm", post_confirm)
