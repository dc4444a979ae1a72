"""/analyze SYMBOL (or the 🔍 buttons of /watchlist and /signals): the chart (candles, EMA50/200,
Bollinger, RSI, MACD, the coin's open orders as lines) and the analysis in words, with the wider
indicator set (ADX, Stochastic RSI, OBV, Supertrend, Ichimoku) on demand, in place."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatAction
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.domain.input_rules import Invalid
from bot.domain.market_reading import Finding
from bot.presentation.formatting import percent, price, quantity, when
from bot.presentation.market_words import finding_text
from bot.services.analysis import Analysis, AnalysisService
from bot.services.user_settings import UserSettingsService
from bot.services.watchlist import WatchlistService
from bot.telegram.callbacks import AnalyzeCallback
from bot.telegram.screens import Screen, button, current_locale, esc, refusal, reply, show

TONES = {"up": "↗️", "down": "↘️", "neutral": "➖"}
SUGGESTED_COINS = 12


# --- rendering (pure) ------------------------------------------------------------------------

def level_kind(kind: str) -> str:
    return {"buy": _("buy"), "sell": _("sell"), "stop_loss": _("stop-loss"), "take_profit": _("take-profit")}[kind]


def decision_word(decision: str) -> str:
    return {"BUY": _("BUY"), "SELL": _("SELL (exit)"), "WAIT": _("WAIT")}.get(decision, decision)


def _findings(findings: tuple[Finding, ...], locale: str) -> list[str]:
    return [f"{TONES.get(f.tone, '➖')} {esc(finding_text(f, _, locale))}" for f in findings]


def render_caption(analysis: Analysis, locale: str) -> str:
    last = price(analysis.price, analysis.quote, locale)
    return f"<b>{esc(analysis.symbol)}</b> · {esc(analysis.timeframe)} · {esc(last)}"


def render_analysis(analysis: Analysis, locale: str, timezone: str, *, more: bool = False) -> Screen:
    head = f"🔍 {render_caption(analysis, locale)}"
    if analysis.change_percent is not None:
        head += " ({label}: {change})".format(label=esc(_("24 h")),
                                              change=percent(analysis.change_percent, locale, signed=True))
    lines = [head, esc(_("Newest candle: {when}").format(when=when(analysis.candle_time, locale, timezone)))]
    if analysis.signal is not None and analysis.signal_at is not None:
        lines.append(esc(_("Newest signal: {decision} ({when})").format(
            decision=decision_word(analysis.signal), when=when(analysis.signal_at, locale, timezone))))
    lines.append("")
    lines += _findings(analysis.brief, locale)
    if analysis.levels:
        lines.append("")
        lines.append("<b>{}</b>".format(esc(_("Open orders on the chart:"))))
        for level in analysis.levels:
            amount = quantity(level.quantity, analysis.base, locale)
            at = price(level.price, analysis.quote, locale)
            lines.append(f"• {esc(level_kind(level.kind))} {esc(amount)} @ {esc(at)}")
    if more:
        lines += ["", "<b>{}</b> (pandas-ta)".format(esc(_("More indicators")))]
        lines += _findings(analysis.wider, locale) or [esc(_("Not enough history for them yet."))]
    toggle = (button("📉 " + _("Fewer indicators"), AnalyzeCallback(symbol=analysis.symbol, view="refresh")) if more
              else button("📊 " + _("More indicators"), AnalyzeCallback(symbol=analysis.symbol, view="more")))
    keyboard = InlineKeyboardMarkup(inline_keyboard=[
        [toggle, button("🖼 " + _("Chart"), AnalyzeCallback(symbol=analysis.symbol, view="chart"))],
        [button("🔄 " + _("Refresh"), AnalyzeCallback(symbol=analysis.symbol, view="more" if more else "refresh"))],
    ])
    return Screen("\n".join(lines), keyboard)


def render_usage(watched: list[str]) -> Screen:
    text = esc(_("Send /analyze and a coin, e.g. /analyze BTC_USDT, or pick a watched coin:"))
    buttons = [button(f"🔍 {s}", AnalyzeCallback(symbol=s)) for s in watched[:SUGGESTED_COINS]]
    rows = [buttons[i:i + 3] for i in range(0, len(buttons), 3)]
    return Screen(text, InlineKeyboardMarkup(inline_keyboard=rows) if rows else None)


def render_analysis_refusal(invalid: Invalid) -> Screen:
    lines = ["⚠️ " + refusal(invalid)]
    rows: list[list[InlineKeyboardButton]] = []
    if invalid.suggestions:
        lines.append(esc(_("Did you mean:")))
        rows.append([button(f"🔍 {s}", AnalyzeCallback(symbol=s)) for s in invalid.suggestions])
    return Screen("\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows) if rows else None)


# --- handlers --------------------------------------------------------------------------------

def build_router() -> Router:
    router = Router(name="analyze")

    async def send_chart(bot: Bot, chat_id: int, analysis: Analysis, analyses: AnalysisService) -> None:
        await bot.send_chat_action(chat_id, ChatAction.UPLOAD_PHOTO)
        image = await analyses.chart(analysis)
        await bot.send_photo(chat_id, BufferedInputFile(image.png, filename=f"{analysis.symbol}.png"),
                             caption=render_caption(analysis, current_locale()))

    async def open_analysis(bot: Bot, chat_id: int, user_id: int, text: str, analysis_service: AnalysisService,
                            user_settings: UserSettingsService) -> None:
        analysis = await analysis_service.analyze(text)
        if isinstance(analysis, Invalid):
            screen = render_analysis_refusal(analysis)
            await bot.send_message(chat_id, screen.text, reply_markup=screen.keyboard)
            return
        await send_chart(bot, chat_id, analysis, analysis_service)
        screen = render_analysis(analysis, current_locale(), await user_settings.timezone(user_id))
        await bot.send_message(chat_id, screen.text, reply_markup=screen.keyboard)

    @router.message(Command("analyze"))
    async def analyze_command(message: Message, command: CommandObject, state: FSMContext, bot: Bot,
                              analysis_service: AnalysisService, user_settings: UserSettingsService,
                              watchlist: WatchlistService) -> None:
        await state.clear()
        if not command.args or not command.args.strip():
            await reply(message, render_usage([c.symbol for c in await watchlist.coins()]))
            return
        user_id = message.from_user.id if message.from_user else 0
        await open_analysis(bot, message.chat.id, user_id, command.args, analysis_service, user_settings)

    @router.callback_query(AnalyzeCallback.filter(F.view == "brief"))
    async def analyze_button(query: CallbackQuery, callback_data: AnalyzeCallback, bot: Bot,
                             analysis_service: AnalysisService, user_settings: UserSettingsService) -> None:
        await query.answer()
        if query.message is not None:
            await open_analysis(bot, query.message.chat.id, query.from_user.id, callback_data.symbol,
                                analysis_service, user_settings)

    @router.callback_query(AnalyzeCallback.filter(F.view.in_({"refresh", "more"})))
    async def analysis_in_place(query: CallbackQuery, callback_data: AnalyzeCallback,
                                analysis_service: AnalysisService, user_settings: UserSettingsService) -> None:
        await query.answer()
        analysis = await analysis_service.analyze(callback_data.symbol)
        if isinstance(analysis, Invalid):
            await show(query, render_analysis_refusal(analysis))
            return
        await show(query, render_analysis(analysis, current_locale(), await user_settings.timezone(query.from_user.id),
                                          more=callback_data.view == "more"))

    @router.callback_query(AnalyzeCallback.filter(F.view == "chart"))
    async def chart_again(query: CallbackQuery, callback_data: AnalyzeCallback, bot: Bot,
                          analysis_service: AnalysisService) -> None:
        await query.answer()
        analysis = await analysis_service.analyze(callback_data.symbol)
        if query.message is None:
            return
        if isinstance(analysis, Invalid):
            screen = render_analysis_refusal(analysis)
            await bot.send_message(query.message.chat.id, screen.text, reply_markup=screen.keyboard)
            return
        await send_chart(bot, query.message.chat.id, analysis, analysis_service)

    return router
