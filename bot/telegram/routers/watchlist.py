"""/watchlist: every coin with its Trade / Alert / Margin flags, amount and SL / TP %; flags toggle
in place, numbers change through a short conversation, coins are added and removed.

The rules live in `WatchlistService` (the Mini App's PATCH uses the same); this module parses,
calls it and renders. Rendering is pure (data in, `Screen` out).
"""

from __future__ import annotations

from typing import Literal

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.domain.input_rules import Invalid, NumberField
from bot.presentation.formatting import money, percent
from bot.services.user_settings import UserSettingsService
from bot.services.watchlist import CoinSettings, Flag, WatchlistService
from bot.telegram.callbacks import AnalyzeCallback
from bot.telegram.screens import Screen, button, current_locale, esc, page_count, pager_row, refusal, reply, show

PAGE_SIZE = 8


class WatchAction(CallbackData, prefix="wl"):
    action: Literal["list", "card", "toggle", "edit", "remove", "removed", "add", "pick", "cancel"]
    symbol: str = ""
    field: str = ""
    page: int = 0


class WatchEdit(StatesGroup):
    number = State()      # data: symbol, field, page
    symbol = State()      # adding a coin: waiting for its symbol


# --- rendering (pure) ------------------------------------------------------------------------

def _yes_no(value: bool) -> str:
    return _("YES") if value else _("NO")


def flag_label(flag: Flag) -> str:
    return {Flag.TRADE: _("Trade"), Flag.ALERT: _("Alert"), Flag.MARGIN: _("Margin")}[flag]


def field_label(field: NumberField) -> str:
    return {NumberField.AMOUNT: _("Amount a buy"), NumberField.STOP_LOSS: _("Stop-loss"),
            NumberField.TAKE_PROFIT: _("Take-profit")}[field]


def field_value(field: NumberField, coin: CoinSettings, locale: str) -> str:
    value = coin.number(field)
    return money(value, "USD", locale) if field is NumberField.AMOUNT else percent(value, locale)


def _flags(coin: CoinSettings) -> str:
    return " · ".join(f"{flag_label(f)} {_yes_no(coin.flag(f))}" for f in Flag)


def render_watchlist(coins: list[CoinSettings], page: int, locale: str, notice: str | None = None) -> Screen:
    pages = page_count(len(coins), PAGE_SIZE)
    page = min(max(page, 0), pages - 1)
    shown = coins[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
    lines = [notice, ""] if notice else []
    lines.append("👁 <b>{title}</b> ({count})".format(title=esc(_("Watchlist")), count=len(coins)))
    if not coins:
        lines.append(esc(_("The watchlist is empty: add a coin with the button below.")))
    for coin in shown:
        lines.append("")
        lines.append(f"<b>{esc(coin.symbol)}</b> · {esc(_flags(coin))}")
        lines.append("    {amount} · SL {sl} · TP {tp}".format(
            amount=money(coin.amount_usd, "USD", locale), sl=percent(coin.stop_loss_percent, locale),
            tp=percent(coin.take_profit_percent, locale)))
    rows: list[list[InlineKeyboardButton]] = []
    coin_buttons = [button(c.symbol, WatchAction(action="card", symbol=c.symbol, page=page)) for c in shown]
    rows += [coin_buttons[i:i + 2] for i in range(0, len(coin_buttons), 2)]
    pager = pager_row(page, pages, lambda p: WatchAction(action="list", page=p))
    if pager:
        rows.append(pager)
    rows.append([button("➕ " + _("Add a coin"), WatchAction(action="add", page=page)),
                 button("🔄 " + _("Refresh"), WatchAction(action="list", page=page))])
    return Screen("\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows))


def render_coin(coin: CoinSettings, page: int, locale: str, notice: str | None = None) -> Screen:
    lines = [notice, ""] if notice else []
    lines += [
        f"<b>{esc(coin.symbol)}</b>",
        f"{esc(flag_label(Flag.TRADE))}: {_yes_no(coin.trade)} — {esc(_('automatic buys on BUY signals'))}",
        f"{esc(flag_label(Flag.ALERT))}: {_yes_no(coin.alert)} — {esc(_('a message on each new signal'))}",
        f"{esc(flag_label(Flag.MARGIN))}: {_yes_no(coin.margin)}",
    ]
    lines += [f"{esc(field_label(f))}: {field_value(f, coin, locale)}" for f in NumberField]
    toggles = [button(f"{'✅' if coin.flag(f) else '▫️'} {flag_label(f)}",
                      WatchAction(action="toggle", symbol=coin.symbol, field=f.value, page=page)) for f in Flag]
    edits = [button("✏️ " + label, WatchAction(action="edit", symbol=coin.symbol, field=f.value, page=page))
             for f, label in ((NumberField.AMOUNT, _("Amount")), (NumberField.STOP_LOSS, "SL %"),
                              (NumberField.TAKE_PROFIT, "TP %"))]
    keyboard = InlineKeyboardMarkup(inline_keyboard=[
        toggles, edits,
        [button("🔍 " + _("Analyze"), AnalyzeCallback(symbol=coin.symbol)),
         button("🗑 " + _("Remove"), WatchAction(action="remove", symbol=coin.symbol, page=page))],
        [button("⬅️ " + _("Watchlist"), WatchAction(action="list", page=page)),
         button("🔄 " + _("Refresh"), WatchAction(action="card", symbol=coin.symbol, page=page))],
    ])
    return Screen("\n".join(lines), keyboard)


def render_remove_question(coin: CoinSettings, page: int) -> Screen:
    text = esc(_("Remove {symbol} from the watchlist? Its open orders and their protection stay as they "
                 "are.").format(symbol=coin.symbol))
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[
        button("🗑 " + _("Yes, remove"), WatchAction(action="removed", symbol=coin.symbol, page=page)),
        button(_("No"), WatchAction(action="card", symbol=coin.symbol, page=page))]])
    return Screen(text, keyboard)


def _cancel_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[button("✖️ " + _("Cancel"), WatchAction(action="cancel"))]])


def render_number_prompt(coin: CoinSettings, field: NumberField, locale: str) -> Screen:
    example = {NumberField.AMOUNT: "150", NumberField.STOP_LOSS: "3", NumberField.TAKE_PROFIT: "4.5"}[field]
    unit = "USD" if field is NumberField.AMOUNT else "%"
    text = esc(_("{symbol}: send the new {what} in {unit} (now {value}), e.g. {example}.").format(
        symbol=coin.symbol, what=field_label(field).lower(), unit=unit, value=field_value(field, coin, locale),
        example=example))
    return Screen(text, _cancel_keyboard())


def render_add_prompt() -> Screen:
    return Screen(esc(_("Send the symbol of the coin to watch, e.g. BTC_USDT (or just BTC).")), _cancel_keyboard())


def render_refusal(invalid: Invalid, *, again: str) -> Screen:
    """One line saying what was wrong, suggestions as buttons, and how to go on."""
    lines = ["⚠️ " + refusal(invalid)]
    rows = []
    if invalid.suggestions:
        lines.append(esc(_("Did you mean:")))
        rows.append([button(s, WatchAction(action="pick", symbol=s)) for s in invalid.suggestions])
    lines.append(esc(again))
    rows.append([button("✖️ " + _("Cancel"), WatchAction(action="cancel"))])
    return Screen("\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows))


# --- handlers --------------------------------------------------------------------------------

def build_router() -> Router:
    router = Router(name="watchlist")

    @router.message(Command("watchlist"))
    async def show_watchlist(message: Message, state: FSMContext, watchlist: WatchlistService) -> None:
        await state.clear()
        await reply(message, render_watchlist(await watchlist.coins(), 0, current_locale()))

    @router.callback_query(WatchAction.filter(F.action == "list"))
    async def list_page(query: CallbackQuery, callback_data: WatchAction, watchlist: WatchlistService) -> None:
        await query.answer()
        await show(query, render_watchlist(await watchlist.coins(), callback_data.page, current_locale()))

    @router.callback_query(WatchAction.filter(F.action == "card"))
    async def card(query: CallbackQuery, callback_data: WatchAction, watchlist: WatchlistService) -> None:
        await query.answer()
        await show(query, await _card_or_list(watchlist, callback_data.symbol, callback_data.page))

    @router.callback_query(WatchAction.filter(F.action == "toggle"))
    async def toggle(query: CallbackQuery, callback_data: WatchAction, watchlist: WatchlistService) -> None:
        if callback_data.field not in Flag.__members__.values():
            await query.answer()
            return
        flag = Flag(callback_data.field)
        result = await watchlist.toggle(callback_data.symbol, flag)
        if isinstance(result, Invalid):
            await query.answer()
            await show(query, render_watchlist(await watchlist.coins(), callback_data.page, current_locale(),
                                               notice="⚠️ " + refusal(result)))
            return
        await query.answer(f"{flag_label(flag)}: {_yes_no(result.flag(flag))}")
        await show(query, render_coin(result, callback_data.page, current_locale()))

    @router.callback_query(WatchAction.filter(F.action == "edit"))
    async def start_edit(query: CallbackQuery, callback_data: WatchAction, state: FSMContext,
                         watchlist: WatchlistService) -> None:
        await query.answer()
        if callback_data.field not in NumberField.__members__.values():
            return
        coin = await watchlist.coin(callback_data.symbol)
        if coin is None:
            await show(query, await _card_or_list(watchlist, callback_data.symbol, callback_data.page))
            return
        await state.set_state(WatchEdit.number)
        await state.update_data(symbol=coin.symbol, field=callback_data.field, page=callback_data.page)
        if isinstance(query.message, Message):
            await reply(query.message, render_number_prompt(coin, NumberField(callback_data.field),
                                                            current_locale()))

    @router.message(StateFilter(WatchEdit.number), F.text, ~F.text.startswith("/"))
    async def number_typed(message: Message, state: FSMContext, watchlist: WatchlistService) -> None:
        data = await state.get_data()
        field, symbol = NumberField(data["field"]), str(data["symbol"])
        locale = current_locale()
        result = await watchlist.set_number(symbol, field, message.text or "", locale)
        if isinstance(result, Invalid):
            if result.key == "not_watched":
                await state.clear()
                await reply(message, render_watchlist(await watchlist.coins(), 0, locale,
                                                      notice="⚠️ " + refusal(result)))
                return
            await reply(message, render_refusal(result, again=_("Send another value, or press Cancel.")))
            return
        await state.clear()
        notice = "✅ " + esc(_("{symbol}: {what} set to {value}").format(
            symbol=symbol, what=field_label(field).lower(), value=field_value(field, result, locale)))
        await reply(message, render_coin(result, int(data.get("page", 0)), locale, notice=notice))

    @router.callback_query(WatchAction.filter(F.action == "remove"))
    async def ask_remove(query: CallbackQuery, callback_data: WatchAction, watchlist: WatchlistService) -> None:
        await query.answer()
        coin = await watchlist.coin(callback_data.symbol)
        if coin is None:
            await show(query, await _card_or_list(watchlist, callback_data.symbol, callback_data.page))
            return
        await show(query, render_remove_question(coin, callback_data.page))

    @router.callback_query(WatchAction.filter(F.action == "removed"))
    async def remove(query: CallbackQuery, callback_data: WatchAction, watchlist: WatchlistService) -> None:
        await query.answer()
        result = await watchlist.remove(callback_data.symbol)
        notice = "⚠️ " + refusal(result) if result is not None else "🗑 " + esc(
            _("{symbol} removed from the watchlist.").format(symbol=callback_data.symbol))
        await show(query, render_watchlist(await watchlist.coins(), callback_data.page, current_locale(),
                                           notice=notice))

    @router.callback_query(WatchAction.filter(F.action == "add"))
    async def start_add(query: CallbackQuery, state: FSMContext) -> None:
        await query.answer()
        await state.set_state(WatchEdit.symbol)
        if isinstance(query.message, Message):
            await reply(query.message, render_add_prompt())

    @router.message(StateFilter(WatchEdit.symbol), F.text, ~F.text.startswith("/"))
    async def symbol_typed(message: Message, state: FSMContext, watchlist: WatchlistService,
                           user_settings: UserSettingsService) -> None:
        user_id = message.from_user.id if message.from_user else 0
        screen = await _add(watchlist, user_settings, user_id, message.text or "", state)
        await reply(message, screen)

    @router.callback_query(WatchAction.filter(F.action == "pick"))
    async def pick(query: CallbackQuery, callback_data: WatchAction, state: FSMContext,
                   watchlist: WatchlistService, user_settings: UserSettingsService) -> None:
        await query.answer()
        await show(query, await _add(watchlist, user_settings, query.from_user.id, callback_data.symbol, state))

    @router.callback_query(WatchAction.filter(F.action == "cancel"))
    async def cancel(query: CallbackQuery, state: FSMContext) -> None:
        await state.clear()
        await query.answer()
        await show(query, Screen(esc(_("Canceled: nothing was changed."))))

    @router.message(StateFilter(WatchEdit.number, WatchEdit.symbol), ~F.text)
    async def not_text(message: Message) -> None:
        await reply(message, Screen(esc(_("Please send it as a text message, or press Cancel.")),
                                    _cancel_keyboard()))

    return router


async def _card_or_list(watchlist: WatchlistService, symbol: str, page: int, notice: str | None = None) -> Screen:
    coin = await watchlist.coin(symbol)
    if coin is None:
        return render_watchlist(await watchlist.coins(), page, current_locale(),
                                notice="⚠️ " + refusal(Invalid.of("not_watched", symbol=symbol)))
    return render_coin(coin, page, current_locale(), notice=notice)


async def _add(watchlist: WatchlistService, user_settings: UserSettingsService, user_id: int, text: str,
               state: FSMContext) -> Screen:
    """Add the coin `text` names; the adder's default SL/TP % go with it. A refusal keeps the
    conversation open (another symbol may follow), except for a coin already watched."""
    defaults = await user_settings.get(user_id)
    result = await watchlist.add(text, stop_loss_percent=defaults.stop_loss_percent,
                                 take_profit_percent=defaults.take_profit_percent)
    locale = current_locale()
    if isinstance(result, Invalid):
        if result.key == "already_watched":
            await state.clear()
            return await _card_or_list(watchlist, result.values["symbol"], 0, notice="ℹ️ " + refusal(result))
        return render_refusal(result, again=_("Send another symbol, or press Cancel."))
    await state.clear()
    notice = "✅ " + esc(_("{symbol} added to the watchlist.").format(symbol=result.symbol))
    return render_coin(result, 0, locale, notice=notice)
