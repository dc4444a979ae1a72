"""/analyze through the real dispatcher and the Bot API emulator: the chart is a real PNG of the
expected size, the words come in both languages, the wider set on demand in place."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from PIL import Image

from bot.db.models import OrderRecord, WatchlistEntry
from bot.services.charts import HEIGHT_PX, WIDTH_PX
from tests.telegram.market_harness import STRANGER, MarketBot, market_bot

__all__ = ["market_bot"]
D = Decimal
NB = "\u00a0"


def assert_chart(market_bot: MarketBot, count: int = 1) -> bytes:
    photos = market_bot.emulator.calls_of("sendPhoto")
    assert len(photos) == count
    png = photos[-1].files["photo"]
    image = Image.open(io.BytesIO(png))
    image.verify()
    assert (image.format, image.size) == ("PNG", (WIDTH_PX, HEIGHT_PX))
    return png


async def test_analyze_sends_the_chart_then_the_analysis_in_words(market_bot: MarketBot) -> None:
    chat = market_bot.chat()
    photo = await chat.send("/analyze BTC_USDT")
    assert photo.message["photo"][0]["width"] == WIDTH_PX
    assert photo.text.startswith("<b>BTC_USDT</b> · 1h · ")
    words = await chat.next()
    assert words.text.startswith("🔍 <b>BTC_USDT</b> · 1h · ") and "(24 h: " in words.text
    assert "Newest candle: " in words.text and " UTC" in words.text
    for part in ("EMA50", "RSI ", "MACD", "Bollinger", "ATR", "Volume "):
        assert part in words.text
    assert "More indicators" not in words.text.split("\n")[-1]
    assert [t for t, _ in words.buttons] == ["📊 More indicators", "🖼 Chart", "🔄 Refresh"]
    assert_chart(market_bot)
    actions = market_bot.emulator.calls_of("sendChatAction")
    assert actions and actions[0].params["action"] == "upload_photo"


async def test_the_wider_set_on_demand_in_place_in_spanish(market_bot: MarketBot) -> None:
    chat = market_bot.chat(language="es")
    await chat.send("/analyze eth_usdt")
    words = await chat.next()
    assert words.text.startswith("🔍 <b>ETH_USDT</b>") and "Última vela: " in words.text
    more = await chat.press(words, "Más indicadores")
    assert more.kind == "edit" and more.message["message_id"] == words.message["message_id"]
    assert "<b>Más indicadores</b> (pandas-ta)" in more.text
    for part in ("ADX ", "RSI estocástico", "OBV ", "Supertrend ", "nube de Ichimoku", "Tenkan-sen"):
        assert part in more.text
    fewer = await chat.press(more, "Menos indicadores")
    assert "Más indicadores" not in fewer.text and "ADX" not in fewer.text
    assert fewer.buttons[0][0] == "📊 Más indicadores"


async def test_a_near_miss_symbol_offers_the_listed_one(market_bot: MarketBot) -> None:
    chat = market_bot.chat()
    refused = await chat.send("/analyze BTCUSDT")
    assert refused.text == "⚠️ BTCUSDT is not listed on the exchange\nDid you mean:"
    assert refused.buttons == [("🔍 BTC_USDT", "an:BTC_USDT:brief")]
    await chat.press(refused, "BTC_USDT")
    assert (await chat.next()).text.startswith("🔍 <b>BTC_USDT</b>")
    assert_chart(market_bot)


async def test_an_unknown_symbol_sends_no_chart(market_bot: MarketBot) -> None:
    chat = market_bot.chat(language="es")
    refused = await chat.send("/analyze <b>NOPE</b>")
    assert refused.text == "⚠️ &lt;b&gt;NOPE&lt;/b&gt; no cotiza en el exchange"
    assert market_bot.emulator.calls_of("sendPhoto") == []


async def test_without_a_symbol_the_watched_coins_are_offered(market_bot: MarketBot) -> None:
    await WatchlistEntry.create(symbol="SOL_USDT")
    usage = await market_bot.chat().send("/analyze")
    assert usage.text.startswith("Send /analyze and a coin, e.g. /analyze BTC_USDT")
    assert usage.buttons == [("🔍 SOL_USDT", "an:SOL_USDT:brief")]


async def test_open_orders_are_listed_and_drawn(market_bot: MarketBot) -> None:
    common = {"mode": "paper", "symbol": "BTC_USDT", "order_type": "LIMIT", "status": "ACTIVE"}
    await OrderRecord.create(exchange_order_id="1", side="BUY", quantity=D("0.01"), price=D(40000), **common)
    await OrderRecord.create(exchange_order_id="2", side="SELL", role="stop_loss", quantity=D("0.02"),
                             trigger_price=D(39000), **{**common, "order_type": "STOP_LOSS", "status": "PENDING"})
    await OrderRecord.create(exchange_order_id="3", side="SELL", role="take_profit", quantity=D("0.02"),
                             price=D(45000), **common)
    await OrderRecord.create(exchange_order_id="4", side="SELL", quantity=D(1), price=D(1),
                             **{**common, "status": "FILLED"})
    chat = market_bot.chat()
    await chat.send("/analyze BTC_USDT")
    words = await chat.next()
    assert "<b>Open orders on the chart:</b>\n" \
           f"• take-profit 0.02{NB}BTC @ 45,000.00{NB}USDT\n" \
           f"• buy 0.01{NB}BTC @ 40,000.00{NB}USDT\n" \
           f"• stop-loss 0.02{NB}BTC @ 39,000.00{NB}USDT" in words.text
    with_lines = assert_chart(market_bot)
    await OrderRecord.filter(exchange_order_id="3").update(status="FILLED")
    await chat.press(words, "Chart")
    assert assert_chart(market_bot, 2) != with_lines          # one line less: drawn again


async def test_the_chart_button_and_refresh(market_bot: MarketBot) -> None:
    chat = market_bot.chat()
    await chat.send("/analyze SOL_USDT")
    words = await chat.next()
    again = await chat.press(words, "Chart")
    assert again.message.get("photo") and again.text.startswith("<b>SOL_USDT</b>")
    refreshed = await chat.press(words, "Refresh")
    assert refreshed.kind == "edit" and refreshed.text.startswith("🔍 <b>SOL_USDT</b>")
    first, second = (c.files["photo"] for c in market_bot.emulator.calls_of("sendPhoto"))
    assert first == second                       # same candle, same orders: the cached drawing


@pytest.mark.parametrize(("opening", "press"), [("/watchlist", "BTC_USDT"), ("/signals", "🔍 BTC_USDT")])
async def test_opened_from_the_watchlist_and_the_signals(market_bot: MarketBot, opening: str, press: str) -> None:
    await WatchlistEntry.create(symbol="BTC_USDT")
    chat = market_bot.chat()
    shown = await chat.send(opening)
    if opening == "/watchlist":
        shown = await chat.press(shown, press)
        press = "Analyze"
    await chat.press(shown, press)
    assert (await chat.next()).text.startswith("🔍 <b>BTC_USDT</b>")
    assert_chart(market_bot)


async def test_a_stranger_gets_no_analysis_and_no_chart(market_bot: MarketBot) -> None:
    stranger = market_bot.chat(STRANGER)
    assert (await stranger.send("/analyze BTC_USDT")).text == "Sorry, this is a private bot."
    for view in ("brief", "more", "refresh", "chart"):
        market_bot.emulator.push_callback(STRANGER, 1, f"an:BTC_USDT:{view}", language_code="en")
    assert await stranger.quiet() == []
    assert market_bot.emulator.calls_of("sendPhoto") == []


@pytest.mark.parametrize(("button", "expected"), [("menu:analyze", "Send /analyze and a coin"),
                                                  ("menu:settings", "⚙️ <b>Settings</b>")])
async def test_the_start_menu_opens_analyze_and_settings(market_bot: MarketBot, button: str, expected: str) -> None:
    chat = market_bot.chat()
    menu = await chat.send("/start")
    opened = await chat.press_data(menu, button)
    assert expected in opened.text
