"""/signals through the real dispatcher and the Bot API emulator."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.db.models import AutoOrderDecision, IndicatorSnapshot, SignalRecord, WatchlistEntry
from bot.domain.reasons import Reason
from tests.telegram.market_harness import ALLOWED, STRANGER, MarketBot, market_bot

__all__ = ["market_bot"]
D = Decimal
NB = "\u00a0"
AT = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


def stored(*reasons: Reason) -> dict[str, object]:
    """A signal row's reasons as the signal service stores them: English sentences and keys + values."""
    return {"reasons": [r.text for r in reasons], "explained": [r.stored() for r in reasons]}


def refusal(rule: str, **values: object) -> dict[str, object]:
    reason = Reason.of(rule, **values)
    return {"rule": rule, "detail": reason.text, "args": reason.values}


async def seed() -> None:
    """BTC: BUY; ETH: WAIT; SOL: Trade=YES, BUY blocked by the max-open rule; XRP: no decision, stale data."""
    await WatchlistEntry.create(symbol="BTC_USDT", alert_enabled=True)
    await WatchlistEntry.create(symbol="ETH_USDT")
    await WatchlistEntry.create(symbol="SOL_USDT", trade_enabled=True)
    await WatchlistEntry.create(symbol="XRP_USDT")
    indicators = {"rsi": "28.53", "ema50": "98000.1", "ema200": "95000.12", "macd_hist": "-12.5",
                  "volume_ratio": "1.2", "close": "97000"}
    await SignalRecord.create(symbol="BTC_USDT", decision="WAIT", price=D(99000), reasons=["RSI 45 between 30 and 70"],
                              indicators=indicators, decided_at=datetime(2026, 12, 5, 7, 0, tzinfo=UTC))
    await SignalRecord.create(symbol="BTC_USDT", decision="BUY", price=D(97000), indicators=indicators, decided_at=AT,
                              **stored(Reason.of("rsi_below", rsi="28.53", limit=30),
                                       Reason.of("price_above_ema200", ema="95000.12")))
    await SignalRecord.create(symbol="ETH_USDT", decision="WAIT", price=D("3500.5"), indicators={"rsi": "50.1"},
                              decided_at=AT, **stored(Reason.of("rsi_between", rsi="50.1", low=30, high=70),
                                                      Reason.of("price_below_ema50", ema=3600)))
    await SignalRecord.create(symbol="SOL_USDT", decision="BUY", price=D("150.25"), indicators={"rsi": "25"},
                              decided_at=AT, **stored(Reason.of("rsi_below", rsi=25, limit=30)))
    await AutoOrderDecision.create(mode="paper", symbol="SOL_USDT", allowed=False, price=D("150.25"), decided_at=AT,
                                   **refusal("max_open_per_symbol", count=3, symbol="SOL_USDT", limit=3))
    await AutoOrderDecision.create(mode="live", symbol="SOL_USDT", allowed=True, price=D(1), decided_at=AT)
    await IndicatorSnapshot.create(symbol="XRP_USDT", timeframe="1h", values={}, stale=True,
                                   stale_reason="too little history: 100 candles, needs 214", computed_at=AT)


async def test_signals_show_each_coins_newest_decision_with_words_values_and_time(market_bot: MarketBot) -> None:
    await seed()
    await market_bot.services.user_settings.set_timezone(ALLOWED, "Europe/Madrid")
    shown = await market_bot.chat().send("/signals")
    text = shown.text
    assert text.startswith("📈 <b>Signals</b> · All (4)")
    # Actionable first: the BUYs, then WAIT, then the coin with no decision yet.
    assert text.index("BTC_USDT") < text.index("SOL_USDT") < text.index("ETH_USDT") < text.index("XRP_USDT")
    assert f"🟢 <b>BTC_USDT</b> · BUY · 97,000.00{NB}USDT · Dec 5, 2026, 09:00 CET" in text
    assert "RSI 28.53 &lt; 30; price above EMA200 (95,000.12)" in text
    assert "RSI 28.53 · EMA50 98,000.10 · EMA200 95,000.12 · MACD -12.50 · vol 1.20×" in text
    assert "⚪ <b>ETH_USDT</b> · WAIT" in text and "price below EMA50 (3,600)" in text
    assert "🟢 <b>SOL_USDT</b> 🤖 · BUY" in text
    assert "🤖 automatic buy blocked: 3 open buy orders on SOL_USDT (limit 3) (Dec 5, 2026, 09:00 CET)" in text
    assert "⏳ <b>XRP_USDT</b> · no decision yet" in text
    assert "⚠️ data stale: too little history: 100 candles, needs 214" in text
    assert ("🔍 BTC_USDT", "an:BTC_USDT:brief") in shown.buttons


async def test_signals_in_spanish(market_bot: MarketBot) -> None:
    await seed()
    text = (await market_bot.chat(language="es").send("/signals")).text
    assert text.startswith("📈 <b>Señales</b> · Todas (4)")
    assert f"🟢 <b>BTC_USDT</b> · COMPRA · 97.000,00{NB}USDT · 5 dic 2026, 08:00 UTC" in text
    assert "RSI 28,53 &lt; 30; precio por encima de la EMA200 (95.000,12)" in text
    assert "compra automática bloqueada: 3 órdenes de compra abiertas en SOL_USDT (límite 3)" in text
    assert "datos desactualizados: poco historial: 100 velas, hacen falta 214" in text


async def test_filters_and_refresh_edit_the_message_in_place(market_bot: MarketBot) -> None:
    await seed()
    chat = market_bot.chat()
    shown = await chat.send("/signals")
    assert [t for t, _ in shown.buttons][:3] == ["• All (4)", "BUY only (2)", "Trade=YES (1)"]
    buys = await chat.press(shown, "BUY only")
    assert buys.kind == "edit" and buys.message["message_id"] == shown.message["message_id"]
    assert "BTC_USDT" in buys.text and "SOL_USDT" in buys.text and "ETH_USDT" not in buys.text
    traded = await chat.press(buys, "Trade=YES")
    assert "SOL_USDT" in traded.text and "BTC_USDT" not in traded.text
    await SignalRecord.create(symbol="SOL_USDT", decision="SELL", price=D(160), indicators={},
                              decided_at=datetime(2026, 12, 5, 9, 0, tzinfo=UTC),
                              **stored(Reason.of("rsi_above", rsi=75, limit=70)))
    refreshed = await chat.press(traded, "Refresh")
    assert refreshed.kind == "edit" and "🔴 <b>SOL_USDT</b> 🤖 · SELL (exit)" in refreshed.text
    assert "RSI 75 &gt; 70" in refreshed.text


async def test_empty_filters_say_so(market_bot: MarketBot) -> None:
    chat = market_bot.chat()
    shown = await chat.send("/signals")
    assert "No coin is watched yet: add some with /watchlist." in shown.text
    assert "No coin has Trade=YES." in (await chat.press(shown, "Trade=YES")).text


async def test_300_coins_are_paged_under_telegrams_limit(market_bot: MarketBot) -> None:
    long_reasons = stored(Reason.of("rsi_below", rsi="28.53", limit=30),
                          Reason.of("price_above_ema200", ema="95000.12"),
                          Reason.of("low_volume", ratio="0.25", minimum="0.5"),
                          Reason.of("too_close_to_last_buy", move="1.5", reference=97000, needed=3))
    for i in range(300):
        symbol = f"C{i:03d}_USDT"
        await WatchlistEntry.create(symbol=symbol, trade_enabled=True)
        await SignalRecord.create(symbol=symbol, decision="BUY", price=D("123456.123456"),
                                  indicators={"rsi": "28.5", "ema50": "123456.5", "ema200": "123456.5",
                                              "macd_hist": "-1234.5", "volume_ratio": "0.25"}, decided_at=AT,
                                  **long_reasons)
        await AutoOrderDecision.create(mode="paper", symbol=symbol, allowed=False, price=D(1), decided_at=AT,
                                       **refusal("min_price_move", move="1.5", last="123456.123456", needed=3))
    chat = market_bot.chat(language="es")
    shown = await chat.send("/signals")
    assert len(shown.text) < 4096 and "1/50" in [t for t, _ in shown.buttons]
    assert "solo un movimiento" in shown.text or "tras la última COMPRA a 97.000" in shown.text
    last = await chat.press_data(shown, "sg:all:49")
    assert "C299_USDT" in last.text and len(last.text) < 4096


async def test_rows_from_before_reasons_had_keys_are_shown_as_stored(market_bot: MarketBot) -> None:
    await WatchlistEntry.create(symbol="BTC_USDT", trade_enabled=True)
    await SignalRecord.create(symbol="BTC_USDT", decision="BUY", price=D(97000), indicators={}, decided_at=AT,
                              reasons=["RSI 28.53 < 30", "price above EMA200 (95000.12)"])
    await AutoOrderDecision.create(mode="paper", symbol="BTC_USDT", allowed=False, rule="max_open_per_symbol",
                                   detail="3 open buy orders on BTC_USDT (limit 3)", price=D(1), decided_at=AT)
    text = (await market_bot.chat(language="es").send("/signals")).text
    assert "RSI 28.53 &lt; 30; price above EMA200 (95000.12)" in text
    assert "compra automática bloqueada: 3 open buy orders on BTC_USDT (limit 3)" in text


async def test_coin_names_and_reasons_are_escaped(market_bot: MarketBot) -> None:
    await WatchlistEntry.create(symbol="A&B_USDT")
    await SignalRecord.create(symbol="A&B_USDT", decision="WAIT", price=D(1), reasons=["<b>odd</b> & new"],
                              indicators={}, decided_at=AT)
    text = (await market_bot.chat().send("/signals")).text
    assert "<b>A&amp;B_USDT</b>" in text and "&lt;b&gt;odd&lt;/b&gt; &amp; new" in text


async def test_decisions_made_by_the_real_cycles_are_shown(market_bot: MarketBot) -> None:
    for symbol in ("BTC_USDT", "ETH_USDT", "DOGE_USDT"):
        await WatchlistEntry.create(symbol=symbol, alert_enabled=True)
    await market_bot.services.signals.update_market()
    await market_bot.services.signals.monitor()
    text = (await market_bot.chat().send("/signals")).text
    assert "(3)" in text and "no decision yet" not in text
    for symbol in ("BTC_USDT", "ETH_USDT", "DOGE_USDT"):
        assert f"<b>{symbol}</b>" in text
    assert text.count("RSI ") >= 6              # reasons and values of each coin


@pytest.mark.parametrize("data", ["sg:buy:0", "sg:all:3"])
async def test_a_stranger_gets_no_signals(market_bot: MarketBot, data: str) -> None:
    await seed()
    stranger = market_bot.chat(STRANGER)
    assert (await stranger.send("/signals")).text == "Sorry, this is a private bot."
    market_bot.emulator.push_callback(STRANGER, 1, data, language_code="en")
    assert await stranger.quiet() == []
    answered = market_bot.emulator.calls_of("answerCallbackQuery")[-1]
    assert answered.params.get("text") == "Sorry, this is a private bot."
