"""Protect and cancel actions as messages: the preview with Confirm / Cancel, and how it ended.

The buttons that start an action (Protect, Cancel group, Cancel order) are shared by /orders, the
daily report and any message that offers them; the preview and the result read the same everywhere.
"""

from __future__ import annotations

import html
from decimal import Decimal
from typing import Literal

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.actions import TEMPLATES as ACTION_TEMPLATES
from bot.domain.actions import (
    ActionPreview,
    ActionRefused,
    ActionResult,
    CancelDetails,
    CompleteDetails,
    Outcome,
    ProtectDetails,
)
from bot.domain.reasons import TEMPLATES as PROTECTION_TEMPLATES
from bot.exchange.codes import message_key
from bot.telegram.views import labels
from bot.telegram.wording import Reader, esc, mode_tag


class CancelGroupPress(CallbackData, prefix="cxg"):
    group_id: str


class CancelOrderPress(CallbackData, prefix="cxo"):
    order_id: str


class ActionPress(CallbackData, prefix="act"):
    do: Literal["confirm", "dismiss"]
    action_id: str


def callback_or_none(data: CallbackData) -> str | None:
    """The packed button data, or None when a value cannot ride in a button (a ':' or over 64 bytes)."""
    try:
        return data.pack()
    except ValueError:
        return None


def reason_text(key: str | None, args: tuple[tuple[str, str], ...], reader: Reader) -> str:
    """A refusal or failure in the reader's words (escaped); the exchange's known codes worded too."""
    values = dict(args)
    if key == "as_text" or key is None:
        return esc(values.get("text", ""))
    if "why_key" in values:
        # A reason inside a reason (why a replacement was not placed): worded first, on its own.
        inner = tuple((k, v) for k, v in args if k != "why_key")
        values["why"] = html.unescape(reason_text(values.pop("why_key"), inner, reader))
    template = ACTION_TEMPLATES.get(key) or PROTECTION_TEMPLATES.get(key)
    if template is None:
        return esc(key)
    code = values.get("code", "")
    wording = message_key(code) if code else None
    if wording is not None:
        values["exchange"] = f"{reader.gettext(wording)} ({code})"
    try:
        return esc(reader.gettext(template).format(**values))
    except (KeyError, IndexError, ValueError):
        return esc(template.format_map(_Missing(values)))


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def render_refusal(refused: ActionRefused, reader: Reader) -> str:
    """Short enough for a button's alert (200 characters); plain text, no markup."""
    text = reason_text(refused.key, refused.arguments, reader)
    return _plain(reader.gettext("Not possible: {reason}").format(reason=text))[:200]


def render_preview(preview: ActionPreview, reader: Reader) -> tuple[str, InlineKeyboardMarkup]:
    if preview.protect is not None:
        body = _protect_preview(preview.protect, preview.mode, reader)
    elif preview.complete is not None:
        body = _complete_preview(preview.complete, preview.mode, reader)
    else:
        assert preview.cancel is not None
        body = _cancel_preview(preview, preview.cancel, reader)
    live = preview.mode == "live"
    lines = [*body, "", esc(reader.gettext("Real orders on your crypto.com account.") if live else
                            reader.gettext("Simulated orders (paper trading): no real money moves.")),
             reader.text("Confirm within 5 minutes (until {time}).",
                 time=reader.when(preview.expires_at))]
    confirm = "✅ " + reader.gettext("Confirm") + (" · " + reader.gettext("LIVE") if live else "")
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=confirm, callback_data=ActionPress(do="confirm",
                                                                     action_id=preview.action_id).pack()),
        InlineKeyboardButton(text="✖️ " + reader.gettext("Cancel"),
                             callback_data=ActionPress(do="dismiss", action_id=preview.action_id).pack()),
    ]])
    return "\n".join(lines), keyboard


def _protect_preview(p: ProtectDetails, mode: str, reader: Reader) -> list[str]:
    lines = [f"🛡 <b>{esc(reader.gettext('Protect {asset}').format(asset=p.base))}</b> · {mode_tag(mode, reader)}",
             reader.text("Sell {quantity} on {symbol} when either price is reached:",
                 quantity=reader.quantity(p.quantity, p.base), symbol=esc(p.symbol)),
             f"🔻 {esc(reader.gettext('Stop-loss'))} {reader.price(p.stop_loss, p.quote)} "
             f"(−{reader.percent(p.stop_loss_percent)})",
             f"🎯 {esc(reader.gettext('Take-profit'))} {reader.price(p.take_profit, p.quote)} "
             f"(+{reader.percent(p.take_profit_percent)})"]
    if p.reference == "entry":
        lines.append(reader.text("around your last buy's price, {price}",
            price=reader.price(p.reference_price, p.quote)))
    else:
        lines.append(reader.text("around the current price, {price}",
            price=reader.price(p.reference_price, p.quote)))
    lines.append(esc(reader.gettext("As one native OCO order: the exchange cancels the other leg when one fills.")
                     if p.native_oco else
                     reader.gettext("As two linked orders: the bot cancels the other when one fills.")))
    if p.shortfall_key:
        lines.append("⚠️ " + reason_text(p.shortfall_key, p.shortfall_args, reader))
    return lines


def _complete_preview(c: CompleteDetails, mode: str, reader: Reader) -> list[str]:
    quantity = reader.quantity(c.quantity, c.base)
    title = esc(reader.gettext("Complete the protection: {asset}").format(asset=c.base))
    lines = [f"🛡 <b>{title}</b> · {mode_tag(mode, reader)}",
             reader.text("On the exchange now: a stop-loss at {stop} for {quantity} (#{order}), no take-profit.",
                 stop=reader.price(c.stop_loss, c.quote), quantity=quantity, order=esc(c.stop_loss_order_id)),
             reader.text("Will do: cancel that stop-loss, then place the full protection of {quantity} on {symbol} "
                         "at the same prices:", quantity=quantity, symbol=esc(c.symbol)),
             f"🔻 {esc(reader.gettext('Stop-loss'))} {reader.price(c.stop_loss, c.quote)}",
             f"🎯 {esc(reader.gettext('Take-profit'))} {reader.price(c.take_profit, c.quote)}",
             esc(reader.gettext("As one native OCO order where the exchange takes it; else as two linked orders, "
                                "as the bot places them after a buy."))]
    if not c.native_oco:
        lines.append(esc(reader.gettext("The exchange refused the native OCO the last time: with two linked orders "
                                        "it may refuse the take-profit again, and the stop-loss alone stands again.")))
    lines.append("⚠️ " + reader.text("For a moment, between the cancel and the new orders, the {quantity} are not "
                                     "protected. If the new orders are refused, they stay unprotected and you are "
                                     "told here.", quantity=quantity))
    return lines


def _cancel_preview(preview: ActionPreview, c: CancelDetails, reader: Reader) -> list[str]:
    group = preview.kind.value == "cancel_group"
    title = reader.gettext("Cancel protection") if group else reader.gettext("Cancel order")
    lines = [f"✖️ <b>{esc(title)}</b> · {esc(c.symbol)} · {mode_tag(preview.mode, reader)}"]
    for order in c.orders:
        level = order.price if order.price is not None else order.trigger_price
        what = labels.role(order.role, reader) if order.role in labels.ROLES else \
            f"{labels.side(order.side, reader)} {labels.order_type(order.order_type, reader)}"
        at = f" @ {reader.price(level, c.quote)}" if level is not None else ""
        lines.append(f"• {what} {reader.quantity(order.quantity, c.base)}{at} (#{esc(order.order_id)})")
    if c.leaves == "unprotected":
        quantity = reader.quantity(c.group_quantity, c.base) if c.group_quantity is not None else esc(c.base)
        lines.append("⚠️ " + esc(reader.gettext("{quantity} will be unprotected.")).format(quantity=quantity))
    elif c.leaves == "one_leg":
        lines.append("⚠️ " + esc(reader.gettext("This is one leg of a protection: the other leg stays alone.")))
    return lines


def render_result(result: ActionResult, reader: Reader) -> str:
    """How a confirmation (or a Cancel on the preview) ended, for the message that showed the preview."""
    action = result.action
    badge = mode_tag(action.mode, reader) if action is not None else ""
    if result.outcome in (Outcome.FOREIGN, Outcome.NOT_FOUND):
        return esc(reader.gettext("This button is not yours, or its action no longer exists: nothing was done."))
    if result.outcome is Outcome.EXPIRED:
        return "⌛ " + esc(reader.gettext("This confirmation expired after 5 minutes: nothing was sent. "
                                   "Ask again from /orders."))
    if result.outcome is Outcome.DISMISSED:
        return "✖️ " + esc(reader.gettext("Canceled: nothing was sent."))
    if result.outcome is Outcome.IN_PROGRESS:
        return "⏳ " + esc(reader.gettext("Already being done (another press or device): nothing is sent twice."))
    if result.outcome is Outcome.FAILED and result.reason_key == "completion_not_placed":
        values = dict(result.reason_args)
        coin = values.get("coin", "")
        # The quantity in the reader's number format, with its coin.
        held = html.unescape(reader.quantity(Decimal(values.get("unprotected", "0")), coin))
        args = tuple((k, held if k == "unprotected" else v) for k, v in result.reason_args)
        title = reader.gettext("{asset} is not protected").format(asset=coin)
        return f"🚨 <b>{esc(title)}</b> · {badge}\n" + reason_text(result.reason_key, args, reader)
    if result.outcome is Outcome.FAILED and result.reason_key == "take_profit_refused_again":
        return f"⚠️ <b>{esc(reader.gettext('Protection still incomplete'))}</b> · {badge}\n" + \
            reason_text(result.reason_key, result.reason_args, reader)
    if result.outcome is Outcome.FAILED:
        return f"❌ <b>{esc(reader.gettext('Not done'))}</b> · {badge}\n" + \
            reason_text(result.reason_key, result.reason_args, reader)
    if result.outcome is Outcome.UNCONFIRMED:
        return f"⏳ <b>{esc(reader.gettext('Sent, not confirmed yet'))}</b> · {badge}\n" + \
            reason_text(result.reason_key, result.reason_args, reader)
    first, *rest = _done_lines(result, reader)
    lines = [f"{first} · {badge}", *rest]
    if result.outcome is Outcome.ALREADY_DONE:
        lines.append(esc(reader.gettext("Already done: nothing was sent again.")))
    return "\n".join(lines)


def _done_lines(result: ActionResult, reader: Reader) -> list[str]:
    action = result.action
    if action is not None and action.protect is not None:
        p = action.protect
        how = reader.gettext("native OCO") if result.native_oco else reader.gettext("two linked orders")
        title = esc(reader.gettext("Protected"))
        return [f"✅ <b>{title}</b>: {reader.quantity(p.quantity, p.base)} {esc(p.symbol)} · "
                f"SL {reader.price(p.stop_loss, p.quote)} · TP {reader.price(p.take_profit, p.quote)} · {esc(how)}"]
    if action is not None and action.complete is not None:
        c = action.complete
        placed = dict(result.reason_args).get("quantity")
        quantity = Decimal(placed) if placed else c.quantity
        how = reader.gettext("native OCO") if result.native_oco else reader.gettext("two linked orders")
        title = esc(reader.gettext("Protection completed"))
        return [f"✅ <b>{title}</b>: {reader.quantity(quantity, c.base)} {esc(c.symbol)} · "
                f"SL {reader.price(c.stop_loss, c.quote)} · TP {reader.price(c.take_profit, c.quote)} · {esc(how)}",
                esc(reader.gettext("The lone stop-loss was canceled and replaced by this protection."))]
    ids = ", ".join(f"#{esc(i)}" for i in result.canceled) or "—"
    if result.canceled:
        lines = [f"✅ <b>{esc(reader.gettext('Canceled'))}</b>: {ids}"]
    else:
        lines = [f"ℹ️ <b>{esc(reader.gettext('Nothing left to cancel'))}</b>"]
    if result.filled:
        lines.append(reader.text("Filled before the cancel arrived: {orders}",
                                 orders=", ".join(f"#{esc(i)}" for i in result.filled)))
    elif action is not None and action.cancel is not None and action.cancel.leaves == "unprotected":
        # A leg that filled sold the coins: there is nothing left to protect.
        lines.append("⚠️ " + reader.text("{asset} is unprotected now: /orders offers to protect it.",
            asset=esc(action.cancel.base)))
    return lines


def _plain(text: str) -> str:
    """Alerts are plain text: undo the escaping done for HTML messages."""
    return html.unescape(text)
