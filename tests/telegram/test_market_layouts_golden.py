"""Every layout of /watchlist, /signals, /settings and /analyze in Spanish and English, compared with
its golden text (tests/telegram/golden/market_*). Pure rendering: fixed data, no Telegram.
`UPDATE_GOLDEN=1` rewrites the files (then read the diff before committing)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from aiogram.types import InlineKeyboardMarkup

from bot.domain.input_rules import Invalid, NumberField, parse_number
from bot.domain.market_reading import read_brief, read_wider
from bot.domain.reasons import Reason
from bot.services.analysis import Analysis, Level
from bot.services.signal_board import AutoOrderNote, CoinSignal, SignalBoardPage, SignalFilter
from bot.services.user_settings import UserSettings
from bot.services.watchlist import CoinSettings
from bot.telegram.routers.analyze import render_analysis, render_analysis_refusal, render_usage
from bot.telegram.routers.settings import (
    render_percent_prompt,
    render_settings,
    render_settings_refusal,
    render_time_choice,
    render_zone_choice,
)
from bot.telegram.routers.signals import render_signals
from bot.telegram.routers.watchlist import (
    render_add_prompt,
    render_coin,
    render_number_prompt,
    render_refusal,
    render_remove_question,
    render_watchlist,
)
from bot.telegram.screens import Screen
from bot.telegram.setup import build_i18n
from tests.telegram.harness import assert_valid_html

D = Decimal
GOLDEN = Path(__file__).parent / "golden"
I18N = build_i18n("es")
AT = datetime(2026, 12, 7, 7, 5, tzinfo=UTC)
ZONE = "Europe/Madrid"

COINS = [CoinSettings("BTC_USDT", True, True, False, D("1234.5"), D(3), D("4.5")),
         CoinSettings("ETH_USDT", False, True, False, D(100), D("2.5"), D(3)),
         CoinSettings("<ODD&>_USDT", False, False, True, D(0), D(3), D(3))]
SIGNALS = SignalBoardPage(SignalFilter.ALL, [
    CoinSignal("BTC_USDT", True, True, "BUY", D(97000), AT,
               {"rsi": D("28.53"), "ema50": D("98000.1"), "ema200": D("95000.12"), "macd_hist": D("-12.5"),
                "volume_ratio": D("1.2")},
               ("RSI 28.53 < 30", "price above EMA200 (95000.12)"),
               auto_order=AutoOrderNote(False, "min_price_move",
                                        "price moved 1.2 % after the last order at 96000 (needs 3 %)", D(97000), AT,
                                        Reason.of("min_price_move", move="1.2", last="96000", needed="3")),
               explained=(Reason.of("rsi_below", rsi="28.53", limit="30"),
                          Reason.of("price_above_ema200", ema="95000.12"))),
    CoinSignal("SOL_USDT", True, False, "SELL", D("150.25"), AT, {"rsi": D("75.2")}, ("RSI 75.2 > 70",),
               auto_order=AutoOrderNote(True, None, "buy 0.5 at 140", D(140), AT),
               explained=(Reason.of("rsi_above", rsi="75.2", limit="70"),)),
    # A row from before reasons were kept as keys (and a refusal without its values): shown as stored.
    CoinSignal("DOGE_USDT", True, True, "WAIT", D("0.081234"), AT, {"rsi": D(50), "ema50": D("0.0812345")},
               ("RSI 50 between 30 and 70", "price below EMA50 (0.081235)", "<b>unknown</b> & new"),
               auto_order=AutoOrderNote(False, "trade_disabled", "Trade is NO for <DOGE>", None, AT)),
    CoinSignal("XRP_USDT", False, False, None, stale_reason="too little history: 100 candles, needs 214"),
], page=1, pages=3, counts={SignalFilter.ALL: 14, SignalFilter.BUY: 3, SignalFilter.TRADE: 2})
SETTINGS = UserSettings(4242, "es", ZONE, "07:30", D("2.5"), D(3), timezone_chosen=True, daily_alert_time_chosen=True,
                        stop_loss_chosen=True)
DEFAULTS = UserSettings(4242, None, "UTC", "08:00", D(3), D(3))
BRIEF_VALUES = {"ema50": D("41686.43"), "ema200": D("42398.61"), "rsi": D("52.59"), "macd": D("17.68"),
                "macd_signal": D("25.5"), "macd_hist": D("-7.82"), "macd_hist_prev": D("-10.29"),
                "bb_lower": D("41567.58"), "bb_upper": D("41820.8"), "atr": D("126.11"), "volume_ratio": D("0.74")}
WIDER_VALUES = {"adx": D("31.9"), "dmp": D(12), "dmn": D(20), "stochrsi_k": D("95.25"), "stochrsi_d": D("84.64"),
                "obv_slope": D(-10), "supertrend": D("42384.55"), "supertrend_direction": D(-1),
                "ichimoku_a": D("41540.25"), "ichimoku_b": D("41707.83"), "tenkan": D("41703.2"), "kijun": D("41750")}
PRICE = D("41706")
ANALYSIS = Analysis(
    symbol="BTC_USDT", base="BTC", quote="USDT", timeframe="1h", candle_time=datetime(2026, 12, 7, 6, 0, tzinfo=UTC),
    price=PRICE, change_percent=D("-1.25"), brief=read_brief(PRICE, BRIEF_VALUES),
    wider=read_wider(PRICE, WIDER_VALUES),
    levels=(Level("take_profit", D(43000), D("0.02")), Level("buy", D(41000), D("0.01")),
            Level("stop_loss", D(40500), D("0.02"))),
    signal="WAIT", signal_at=AT, candle_count=500, frame_key=("BTC_USDT", "1h", 0, "41706"))


def refused(raw: str, field: NumberField) -> Invalid:
    result = parse_number(raw, field)
    assert isinstance(result, Invalid)
    return result


LAYOUTS: dict[str, Callable[[str], Screen]] = {
    "watchlist": lambda locale: render_watchlist(COINS, 0, locale),
    "watchlist_empty": lambda locale: render_watchlist([], 0, locale),
    "watchlist_card": lambda locale: render_coin(COINS[0], 2, locale, notice="✅ saved"),
    "watchlist_remove": lambda locale: render_remove_question(COINS[1], 0),
    "watchlist_amount_prompt": lambda locale: render_number_prompt(COINS[0], NumberField.AMOUNT, locale),
    "watchlist_bad_amount": lambda locale: render_refusal(refused("1e9", NumberField.AMOUNT), again="…"),
    "watchlist_add_prompt": lambda locale: render_add_prompt(),
    "watchlist_near_miss": lambda locale: render_refusal(Invalid.of(
        "unknown_symbol", suggestions=("BTC_USDT", "BTC_USD"), text="BTCUSDT"), again="…"),
    "signals": lambda locale: render_signals(SIGNALS, locale, ZONE),
    "signals_empty_trade": lambda locale: render_signals(
        SignalBoardPage(SignalFilter.TRADE, [], 0, 1, {f: 0 for f in SignalFilter}), locale, ZONE),
    "settings": lambda locale: render_settings(SETTINGS, locale, AT),
    "settings_defaults": lambda locale: render_settings(DEFAULTS, locale, AT),
    "settings_zones": lambda locale: render_zone_choice(SETTINGS),
    "settings_times": lambda locale: render_time_choice(SETTINGS),
    "settings_percent": lambda locale: render_percent_prompt(SETTINGS, NumberField.TAKE_PROFIT, locale),
    "settings_bad_zone": lambda locale: render_settings_refusal(Invalid.of(
        "unknown_timezone", suggestions=("Europe/Madrid",), text="Europe/Madird")),
    "analysis": lambda locale: render_analysis(ANALYSIS, locale, ZONE),
    "analysis_more": lambda locale: render_analysis(ANALYSIS, locale, ZONE, more=True),
    "analysis_usage": lambda locale: render_usage(["BTC_USDT", "ETH_USDT"]),
    "analysis_unknown": lambda locale: render_analysis_refusal(Invalid.of(
        "unknown_symbol", suggestions=("BTC_USDT",), text="btcusdt")),
    "analysis_short_history": lambda locale: render_analysis_refusal(Invalid.of(
        "not_enough_history", symbol="NEW_USDT", count=45, needed=60)),
}


def render(name: str, locale: str) -> Screen:
    with I18N.context(), I18N.use_locale(locale):
        return LAYOUTS[name](locale)


def as_text(screen: Screen) -> str:
    keyboard = screen.keyboard or InlineKeyboardMarkup(inline_keyboard=[])
    rows = [" ".join(f"[{b.text} | {b.callback_data}]" for b in row) for row in keyboard.inline_keyboard]
    return screen.text + "\n" + "\n".join(rows) + "\n"


@pytest.mark.parametrize("language", ["es", "en"])
@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_market_layout_matches_its_golden_text(name: str, language: str) -> None:
    screen = render(name, language)
    assert_valid_html(screen.text)
    rendered = as_text(screen)
    path = GOLDEN / f"market_{name}.{language}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(rendered, encoding="utf-8")
    assert path.exists(), f"no golden text {path.name}: run with UPDATE_GOLDEN=1 and review it"
    assert rendered == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_spanish_and_english_differ_only_in_words(name: str) -> None:
    es, en = render(name, "es"), render(name, "en")
    assert es.text.count("\n") == en.text.count("\n")
    assert as_text(es).count("[") == as_text(en).count("[")
    if name not in ("analysis_usage",):
        assert es.text != en.text
