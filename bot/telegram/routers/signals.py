"""/signals: the newest decision of every watched coin with its price, time (reader's zone),
indicators and reasons in words; for Trade=YES coins what became of the automatic buy. Filters
(all / BUY only / Trade=YES), pages and refresh all edit the message in place."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.domain.reasons import Reason
from bot.presentation.formatting import price, split_symbol, when
from bot.presentation.market_words import indicator_number
from bot.presentation.signal_words import stale_words
from bot.services.signal_board import CoinSignal, SignalBoard, SignalBoardPage, SignalFilter
from bot.services.user_settings import UserSettingsService
from bot.telegram.callbacks import AnalyzeCallback
from bot.telegram.screens import Screen, button, current_locale, esc, pager_row, reply, show
from bot.telegram.wording import Reader, reason_of

PAGE_SIZE = 6
LIMIT = 4096
DETAIL_CHARS = 160      # a free-form detail (an exchange's refusal) is clipped to this
ICONS = {"BUY": "🟢", "SELL": "🔴", "WAIT": "⚪", None: "⏳"}
# The values behind a decision, in the order a trader reads them.
SHOWN_INDICATORS = (("rsi", "RSI"), ("ema50", "EMA50"), ("ema200", "EMA200"), ("macd_hist", "MACD"),
                    ("volume_ratio", "vol"))


class SignalsAction(CallbackData, prefix="sg"):
    view: SignalFilter = SignalFilter.ALL       # not `filter`: CallbackData.filter() is the class's own
    page: int = 0


# --- rendering (pure) ------------------------------------------------------------------------

def decision_label(decision: str | None) -> str:
    return {"BUY": _("BUY"), "SELL": _("SELL (exit)"), "WAIT": _("WAIT")}.get(decision or "", _("no decision yet"))


def filter_label(wanted: SignalFilter) -> str:
    return {SignalFilter.ALL: _("All"), SignalFilter.BUY: _("BUY only"), SignalFilter.TRADE: _("Trade=YES")}[wanted]


def _clip(text: str, limit: int = DETAIL_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def reason_html(why: Reason, reader: Reader) -> str:
    """A stored reason's key + values in the reader's words and digits, escaped; a free-form value
    (an exchange's refusal) clipped."""
    return reason_of(Reason(why.key, tuple((name, _clip(value)) for name, value in why.args)), reader)


def _coin_lines(coin: CoinSignal, locale: str, timezone: str, *, compact: bool = False) -> list[str]:
    reader = Reader(get_i18n(), locale, timezone)
    head = f"{ICONS.get(coin.decision, '⏳')} <b>{esc(coin.symbol)}</b>"
    if coin.trade:
        head += " 🤖"
    head += f" · {esc(decision_label(coin.decision))}"
    if coin.price is not None:
        head += f" · {esc(price(coin.price, split_symbol(coin.symbol)[1], locale))}"
    if coin.decided_at is not None:
        head += f" · {esc(when(coin.decided_at, locale, timezone))}"
    lines = [head]
    if coin.explained:
        lines.append("    " + "; ".join(reason_html(r, reader) for r in coin.explained))
    elif coin.reasons:      # a row from before reasons were kept as keys: its English words, as stored
        lines.append("    " + "; ".join(esc(r) for r in coin.reasons))
    values = [f"{label} {indicator_number(coin.indicators[key], locale)}" + ("×" if key == "volume_ratio" else "")
              for key, label in SHOWN_INDICATORS if key in coin.indicators]
    if values and not compact:
        lines.append("    " + esc(" · ".join(values)))
    if coin.stale_reason:
        lines.append("    ⚠️ " + esc(_("data stale: {reason}").format(reason=stale_words(coin.stale_reason, _, locale))))
    note = coin.auto_order
    if note is not None:
        moment = esc(when(note.decided_at, locale, timezone))
        if note.allowed:
            placed = price(note.price, split_symbol(coin.symbol)[1], locale) if note.price is not None else "—"
            text = esc(_("automatic buy placed at {price} ({when})")).format(price=esc(placed), when=moment)
        else:
            rule = reason_html(note.why, reader) if note.why is not None else esc(_clip(note.detail, 400))
            text = esc(_("automatic buy blocked: {rule} ({when})")).format(rule=rule, when=moment)
        lines.append("    🤖 " + text)
    return lines


def render_signals(board: SignalBoardPage, locale: str, timezone: str) -> Screen:
    """The page; one too long for a message (many long reasons) drops the values lines, and is cut
    at a line end as the last resort."""
    text = _signals_text(board, locale, timezone, compact=False)
    if len(text) > LIMIT:
        text = _signals_text(board, locale, timezone, compact=True)
    if len(text) > LIMIT:
        text = text[:text.rfind("\n", 0, LIMIT - 2)] + "\n…"
    return Screen(text, _signals_keyboard(board))


def _signals_text(board: SignalBoardPage, locale: str, timezone: str, *, compact: bool) -> str:
    lines = ["📈 <b>{title}</b> · {which} ({count})".format(
        title=esc(_("Signals")), which=esc(filter_label(board.filter)), count=board.total)]
    if not board.items:
        lines += ["", esc({SignalFilter.ALL: _("No coin is watched yet: add some with /watchlist."),
                           SignalFilter.BUY: _("No coin's newest decision is BUY."),
                           SignalFilter.TRADE: _("No coin has Trade=YES.")}[board.filter])]
    for coin in board.items:
        lines.append("")
        lines += _coin_lines(coin, locale, timezone, compact=compact)
    return "\n".join(lines)


def _signals_keyboard(board: SignalBoardPage) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = [[
        button(("• " if f is board.filter else "") + f"{filter_label(f)} ({board.counts[f]})",
               SignalsAction(view=f, page=0)) for f in SignalFilter]]
    analyze = [button(f"🔍 {c.symbol}", AnalyzeCallback(symbol=c.symbol)) for c in board.items]
    rows += [analyze[i:i + 3] for i in range(0, len(analyze), 3)]
    pager = pager_row(board.page, board.pages, lambda p: SignalsAction(view=board.filter, page=p))
    if pager:
        rows.append(pager)
    rows.append([button("🔄 " + _("Refresh"), SignalsAction(view=board.filter, page=board.page))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


# --- handlers --------------------------------------------------------------------------------

def build_router() -> Router:
    router = Router(name="signals")

    @router.message(Command("signals"))
    async def signals_command(message: Message, state: FSMContext, signal_board: SignalBoard,
                              user_settings: UserSettingsService) -> None:
        await state.clear()
        user_id = message.from_user.id if message.from_user else 0
        board = await signal_board.page(SignalFilter.ALL, 0, PAGE_SIZE)
        await reply(message, render_signals(board, current_locale(), await user_settings.timezone(user_id)))

    @router.callback_query(SignalsAction.filter())
    async def signals_page(query: CallbackQuery, callback_data: SignalsAction, signal_board: SignalBoard,
                           user_settings: UserSettingsService) -> None:
        await query.answer()
        board = await signal_board.page(callback_data.view, callback_data.page, PAGE_SIZE)
        await show(query, render_signals(board, current_locale(), await user_settings.timezone(query.from_user.id)))

    return router
