"""/settings: language (es/en), time zone, daily report time, default SL/TP % for coins one adds.
Choices are buttons; a zone by name, a time or a percent is typed in a short conversation,
checked by the same rules as everywhere (`UserSettingsService`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.domain.input_rules import Invalid, NumberField
from bot.presentation.formatting import percent
from bot.services.user_settings import UserSettings, UserSettingsService
from bot.telegram.screens import Screen, button, current_locale, esc, refusal, reply, show

LANGUAGE_NAMES = {"es": "🇪🇸 Español", "en": "🇬🇧 English"}
# Offered as buttons: where this product's readers mostly are; any other IANA name can be typed.
COMMON_ZONES = ("UTC", "Europe/Madrid", "Europe/London", "Europe/Berlin", "America/New_York", "America/Chicago",
                "America/Los_Angeles", "America/Mexico_City", "America/Bogota", "America/Lima",
                "America/Argentina/Buenos_Aires", "America/Santiago", "Asia/Tokyo", "Asia/Singapore",
                "Australia/Sydney")
COMMON_TIMES = ("07:00", "08:00", "09:00", "20:00")


class SettingsAction(CallbackData, prefix="st"):
    action: Literal["show", "language", "zones", "zone", "time", "at", "percent", "cancel"]
    value: str = ""


class SettingsEdit(StatesGroup):
    timezone = State()
    report_time = State()
    percent = State()        # data: field


# --- rendering (pure) ------------------------------------------------------------------------

def _default_note(chosen: bool) -> str:
    return "" if chosen else " " + _("(default)")


def render_settings(settings: UserSettings, locale: str, now: datetime, notice: str | None = None) -> Screen:
    local = now.astimezone(ZoneInfo(settings.timezone))
    language = settings.language or locale
    lines = [notice, ""] if notice else []
    lines += [
        "⚙️ <b>{title}</b>".format(title=esc(_("Settings"))),
        "{label}: {value}".format(label=esc(_("Language")), value=esc(LANGUAGE_NAMES.get(language, language))),
        "{label}: {zone}{default} — {now}".format(
            label=esc(_("Time zone")), zone=esc(settings.timezone),
            default=esc(_default_note(settings.timezone_chosen)),
            now=esc(_("now {time}").format(time=f"{local:%H:%M}"))),
        "{label}: {time}{default}".format(label=esc(_("Daily report")), time=esc(settings.daily_alert_time),
                                          default=esc(_default_note(settings.daily_alert_time_chosen))),
        "{label}: {sl}{sl_default} · {tp_label}: {tp}{tp_default}".format(
            label=esc(_("Default stop-loss")), sl=percent(settings.stop_loss_percent, locale),
            sl_default=esc(_default_note(settings.stop_loss_chosen)), tp_label=esc(_("take-profit")),
            tp=percent(settings.take_profit_percent, locale),
            tp_default=esc(_default_note(settings.take_profit_chosen))),
        esc(_("The default stop-loss and take-profit go to the coins you add to the watchlist.")),
    ]
    keyboard = InlineKeyboardMarkup(inline_keyboard=[
        [button(("• " if code == language else "") + name, SettingsAction(action="language", value=code))
         for code, name in LANGUAGE_NAMES.items()],
        [button("🕒 " + _("Time zone"), SettingsAction(action="zones")),
         button("⏰ " + _("Report time"), SettingsAction(action="time"))],
        [button("✏️ SL %", SettingsAction(action="percent", value=NumberField.STOP_LOSS.value)),
         button("✏️ TP %", SettingsAction(action="percent", value=NumberField.TAKE_PROFIT.value))],
        [button("🔄 " + _("Refresh"), SettingsAction(action="show"))],
    ])
    return Screen("\n".join(lines), keyboard)


def _back_row() -> list[InlineKeyboardButton]:
    return [button("⬅️ " + _("Back"), SettingsAction(action="cancel"))]


def render_zone_choice(settings: UserSettings) -> Screen:
    text = esc(_("Your time zone is {zone}. Choose one, or send its name (e.g. Europe/Madrid).").format(
        zone=settings.timezone))
    zones = [button(("• " if z == settings.timezone else "") + z, SettingsAction(action="zone", value=z))
             for z in COMMON_ZONES]
    rows = [zones[i:i + 2] for i in range(0, len(zones), 2)]
    return Screen(text, InlineKeyboardMarkup(inline_keyboard=[*rows, _back_row()]))


def render_time_choice(settings: UserSettings) -> Screen:
    text = esc(_("The daily report comes at {time} ({zone}). Choose a time, or send one as HH:MM.").format(
        time=settings.daily_alert_time, zone=settings.timezone))
    # `:` separates callback data fields, so the time travels as HHMM.
    times = [button(("• " if t == settings.daily_alert_time else "") + t,
                    SettingsAction(action="at", value=t.replace(":", ""))) for t in COMMON_TIMES]
    return Screen(text, InlineKeyboardMarkup(inline_keyboard=[times, _back_row()]))


def render_percent_prompt(settings: UserSettings, field: NumberField, locale: str) -> Screen:
    now = settings.stop_loss_percent if field is NumberField.STOP_LOSS else settings.take_profit_percent
    what = _("default stop-loss") if field is NumberField.STOP_LOSS else _("default take-profit")
    text = esc(_("Send the new {what} in % (now {value}), e.g. 3.").format(what=what, value=percent(now, locale)))
    return Screen(text, InlineKeyboardMarkup(inline_keyboard=[_back_row()]))


def render_settings_refusal(invalid: Invalid) -> Screen:
    lines = ["⚠️ " + refusal(invalid)]
    rows = []
    if invalid.suggestions:
        lines.append(esc(_("Did you mean:")))
        rows.append([button(s, SettingsAction(action="zone", value=s)) for s in invalid.suggestions])
    lines.append(esc(_("Send another value, or press Back.")))
    return Screen("\n".join(lines), InlineKeyboardMarkup(inline_keyboard=[*rows, _back_row()]))


# --- handlers --------------------------------------------------------------------------------

def build_router() -> Router:
    router = Router(name="settings")

    async def screen(user_settings: UserSettingsService, user_id: int, notice: str | None = None) -> Screen:
        return render_settings(await user_settings.get(user_id), current_locale(), datetime.now(UTC), notice)

    @router.message(Command("settings"))
    async def settings_command(message: Message, state: FSMContext, user_settings: UserSettingsService) -> None:
        await state.clear()
        await reply(message, await screen(user_settings, message.from_user.id if message.from_user else 0))

    @router.callback_query(SettingsAction.filter(F.action.in_({"show", "cancel"})))
    async def settings_page(query: CallbackQuery, state: FSMContext, user_settings: UserSettingsService) -> None:
        await state.clear()
        await query.answer()
        await show(query, await screen(user_settings, query.from_user.id))

    @router.callback_query(SettingsAction.filter(F.action == "language"))
    async def language(query: CallbackQuery, callback_data: SettingsAction, user_settings: UserSettingsService,
                       i18n: I18n) -> None:
        result = await user_settings.set_language(query.from_user.id, callback_data.value)
        if isinstance(result, Invalid):
            await query.answer(refusal(result))
            return
        # This update arrived in the old language; what follows is in the new one (pressing the one
        # already shown keeps it, without claiming a change).
        changed = (result.language or callback_data.value) != i18n.current_locale
        with i18n.use_locale(result.language or callback_data.value):
            await query.answer(LANGUAGE_NAMES.get(callback_data.value, callback_data.value))
            notice = "✅ " + esc(_("Language changed.")) if changed else None
            await show(query, await screen(user_settings, query.from_user.id, notice))

    @router.callback_query(SettingsAction.filter(F.action == "zones"))
    async def zones(query: CallbackQuery, state: FSMContext, user_settings: UserSettingsService) -> None:
        await query.answer()
        await state.set_state(SettingsEdit.timezone)
        await show(query, render_zone_choice(await user_settings.get(query.from_user.id)))

    @router.callback_query(SettingsAction.filter(F.action == "zone"))
    async def zone_chosen(query: CallbackQuery, callback_data: SettingsAction, state: FSMContext,
                          user_settings: UserSettingsService) -> None:
        await query.answer()
        await state.clear()
        await show(query, _saved(await user_settings.set_timezone(query.from_user.id, callback_data.value)))

    @router.message(StateFilter(SettingsEdit.timezone), F.text, ~F.text.startswith("/"))
    async def zone_typed(message: Message, state: FSMContext, user_settings: UserSettingsService) -> None:
        user_id = message.from_user.id if message.from_user else 0
        result = await user_settings.set_timezone(user_id, message.text or "")
        await _answer_typed(message, state, result)

    @router.callback_query(SettingsAction.filter(F.action == "time"))
    async def times(query: CallbackQuery, state: FSMContext, user_settings: UserSettingsService) -> None:
        await query.answer()
        await state.set_state(SettingsEdit.report_time)
        await show(query, render_time_choice(await user_settings.get(query.from_user.id)))

    @router.callback_query(SettingsAction.filter(F.action == "at"))
    async def time_chosen(query: CallbackQuery, callback_data: SettingsAction, state: FSMContext,
                          user_settings: UserSettingsService) -> None:
        await query.answer()
        await state.clear()
        await show(query, _saved(await user_settings.set_daily_time(query.from_user.id, callback_data.value)))

    @router.message(StateFilter(SettingsEdit.report_time), F.text, ~F.text.startswith("/"))
    async def time_typed(message: Message, state: FSMContext, user_settings: UserSettingsService) -> None:
        user_id = message.from_user.id if message.from_user else 0
        result = await user_settings.set_daily_time(user_id, message.text or "")
        await _answer_typed(message, state, result)

    @router.callback_query(SettingsAction.filter(F.action == "percent"))
    async def ask_percent(query: CallbackQuery, callback_data: SettingsAction, state: FSMContext,
                          user_settings: UserSettingsService) -> None:
        await query.answer()
        if callback_data.value not in (NumberField.STOP_LOSS.value, NumberField.TAKE_PROFIT.value):
            return
        await state.set_state(SettingsEdit.percent)
        await state.update_data(field=callback_data.value)
        settings = await user_settings.get(query.from_user.id)
        await show(query, render_percent_prompt(settings, NumberField(callback_data.value), current_locale()))

    @router.message(StateFilter(SettingsEdit.percent), F.text, ~F.text.startswith("/"))
    async def percent_typed(message: Message, state: FSMContext, user_settings: UserSettingsService) -> None:
        user_id = message.from_user.id if message.from_user else 0
        field = NumberField((await state.get_data())["field"])
        result = await user_settings.set_default_percent(user_id, field, message.text or "", current_locale())
        await _answer_typed(message, state, result)

    @router.message(StateFilter(SettingsEdit.timezone, SettingsEdit.report_time, SettingsEdit.percent), ~F.text)
    async def not_text(message: Message) -> None:
        await reply(message, Screen(esc(_("Please send it as a text message, or press Back.")),
                                    InlineKeyboardMarkup(inline_keyboard=[_back_row()])))

    return router


def _saved(result: UserSettings | Invalid) -> Screen:
    if isinstance(result, Invalid):
        return render_settings_refusal(result)
    return render_settings(result, current_locale(), datetime.now(UTC), "✅ " + esc(_("Saved.")))


async def _answer_typed(message: Message, state: FSMContext, result: UserSettings | Invalid) -> None:
    """A refusal keeps the conversation open for another try; a saved value ends it."""
    if not isinstance(result, Invalid):
        await state.clear()
    await reply(message, _saved(result))

