"""/alerts: the coins with Alert=YES and their last signal, a toggle per coin, and per kind of event
whether it notifies (on / silent / off). Every button edits the message in place."""

from __future__ import annotations

import logging
from typing import Literal

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n

from bot.domain.notifications import KINDS, Kind, Level
from bot.presentation.formatting import price, split_symbol, when
from bot.services.alerts import AlertsService, AlertsView, CoinAlert
from bot.telegram.wording import N_, Reader, decision, esc

log = logging.getLogger(__name__)


class AlertsCallback(CallbackData, prefix="alerts"):
    action: Literal["coin", "level", "page", "refresh"]
    symbol: str = ""          # the coin whose Alert flag a "coin" press flips
    kind: str = ""            # the event kind whose level a "level" press moves on
    after: str = ""           # the page shown: coins after this symbol ("" = from the first)


KIND_NAMES = {
    Kind.FILL: N_("Fills and order changes"),
    Kind.PROTECTION: N_("Protection placed or failed"),
    Kind.OCO_CLOSED: N_("OCO group closed"),
    Kind.SIGNAL: N_("Signals and automatic orders"),
    Kind.DAILY_REPORT: N_("Daily report"),
}
LEVEL_NAMES = {Level.ON: N_("on"), Level.SILENT: N_("silent"), Level.OFF: N_("off")}
LEVEL_ICONS = {Level.ON: "🔔", Level.SILENT: "🔈", Level.OFF: "🔕"}


def _coin_line(coin: CoinAlert, view: AlertsView, reader: Reader) -> str:
    _ = reader.text
    icon = "🔔" if coin.alert_enabled else "🔕"
    symbol = esc(coin.symbol)
    if not coin.alert_enabled:
        return f"{icon} {symbol}"
    last = coin.last_signal
    if last is None:
        return _("{icon} {symbol}: no signal yet", icon=icon, symbol=symbol)
    _base, quote = split_symbol(coin.symbol)
    return _("{icon} {symbol}: last signal {decision} at {price}, {when}", icon=icon, symbol=symbol,
             decision=decision(last.decision, reader), price=esc(price(last.price, quote, reader.locale)),
             when=esc(when(last.at, reader.locale, view.timezone)))


def render_alerts(view: AlertsView, reader: Reader) -> tuple[str, InlineKeyboardMarkup]:
    """The /alerts message and its keyboard (pure: the same view gives the same message)."""
    _ = reader.text
    lines = ["🔔 <b>" + _("Alerts") + "</b>",
             _("Coins with Alert=YES: {alerted} of {watched} on the watchlist.",
               alerted=str(view.alerted), watched=str(view.watched))]
    if view.coins:
        lines.append("")
        lines += [_coin_line(coin, view, reader) for coin in view.coins]
    else:
        lines.append(_("The watchlist is empty: add coins with /watchlist."))
    lines += ["", "<b>" + _("What notifies you") + "</b> " + _("(🔔 on · 🔈 silent · 🔕 off)")]
    for kind in KINDS:
        level = view.levels[kind]
        lines.append(_("{kind}: {icon} {level}", kind=esc(reader.gettext(KIND_NAMES[kind])),
                       icon=LEVEL_ICONS[level], level=esc(reader.gettext(LEVEL_NAMES[level]))))
    return "\n".join(lines), _keyboard(view, reader)


def _keyboard(view: AlertsView, reader: Reader) -> InlineKeyboardMarkup:
    def button(text: str, data: AlertsCallback) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text, callback_data=data.pack())

    coins = [button(("🔔 " if c.alert_enabled else "🔕 ") + c.symbol,
                    AlertsCallback(action="coin", symbol=c.symbol, after=view.after)) for c in view.coins]
    rows = [coins[i:i + 2] for i in range(0, len(coins), 2)]
    for kind in KINDS:
        level = view.levels[kind]
        rows.append([button(f"{LEVEL_ICONS[level]} {reader.gettext(KIND_NAMES[kind])}: "
                            f"{reader.gettext(LEVEL_NAMES[level])}",
                            AlertsCallback(action="level", kind=kind.value, after=view.after))])
    navigation = []
    if view.after:
        navigation.append(button("⏮ " + reader.gettext("First coins"), AlertsCallback(action="page")))
    if view.next_after is not None:
        navigation.append(button(reader.gettext("More coins") + " ▶",
                                 AlertsCallback(action="page", after=view.next_after)))
    navigation.append(button("🔄 " + reader.gettext("Refresh"), AlertsCallback(action="refresh", after=view.after)))
    rows.append(navigation)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def build_router() -> Router:
    router = Router(name="alerts")

    @router.message(Command("alerts"))
    async def show_alerts(message: Message, alerts: AlertsService, i18n: I18n) -> None:
        if message.from_user is None:
            return
        view = await alerts.view(message.from_user.id)
        text, markup = render_alerts(view, Reader(i18n, i18n.current_locale, view.timezone))
        await message.answer(text, reply_markup=markup)

    @router.callback_query(AlertsCallback.filter(F.action.in_({"coin", "level", "page", "refresh"})))
    async def press(query: CallbackQuery, callback_data: AlertsCallback, alerts: AlertsService, i18n: I18n) -> None:
        reader = Reader(i18n, i18n.current_locale)
        notice = None
        if callback_data.action == "coin":
            flipped = await alerts.toggle_alert(callback_data.symbol)
            if flipped is None:
                notice = reader.gettext("That coin is no longer on the watchlist.")
        elif callback_data.action == "level":
            try:
                await alerts.cycle_level(query.from_user.id, Kind(callback_data.kind))
            except ValueError:
                notice = reader.gettext("Unknown kind of notification.")
        await query.answer(notice)
        view = await alerts.view(query.from_user.id, after=callback_data.after)
        text, markup = render_alerts(view, Reader(i18n, i18n.current_locale, view.timezone))
        if query.message is None or not isinstance(query.message, Message):
            return
        try:
            await query.message.edit_text(text, reply_markup=markup)
        except TelegramBadRequest as exc:
            if "not modified" not in exc.message:    # a refresh with nothing new is not an error
                raise

    return router
