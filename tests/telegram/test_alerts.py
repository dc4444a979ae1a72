"""/alerts through the real dispatcher polling the Bot API emulator: the coins with Alert=YES and
their last signal, a coin's toggle, the per-kind levels, pages; every press edits the message."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from aiogram.utils.i18n import I18n

from bot.db.models import SignalRecord, User, WatchlistEntry
from bot.domain.notifications import Kind, Level
from bot.sandbox import BotApiEmulator
from bot.services.alerts import AlertsService, AlertsView, CoinAlert, LastSignal
from bot.settings import load_settings
from bot.telegram.routers.alerts import AlertsCallback, render_alerts
from bot.telegram.setup import LOCALES
from bot.telegram.wording import Reader
from tests.telegram.harness import polling_dispatcher

pytestmark = pytest.mark.storage     # the outbox, users and watchlist queries run on PostgreSQL too
ALLOWED, STRANGER = 111, 999
D = Decimal


@pytest.fixture
async def running_bot(db: str, aiohttp_server: Any, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BotApiEmulator]:
    monkeypatch.setenv("TELEGRAM_ALLOWED_USERS", str(ALLOWED))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST-TOKEN")
    settings = load_settings()
    for symbol, alert in (("ADA_USDT", False), ("BTC_USDT", True), ("ETH_USDT", False), ("SOL_USDT", True),
                          ("XRP_USDT", False)):
        await WatchlistEntry.create(symbol=symbol, alert_enabled=alert)
    moment = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    await SignalRecord.create(symbol="BTC_USDT", decision="BUY", price=D(95000), decided_at=moment)
    await SignalRecord.create(symbol="BTC_USDT", decision="WAIT", price=D(96000), decided_at=moment)
    async with polling_dispatcher(aiohttp_server, settings, {"alerts": AlertsService(page_size=3)}) as emulator:
        yield emulator


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """Button text -> callback data of a message the bot sent."""
    markup = message["reply_markup"]
    if isinstance(markup, str):
        markup = json.loads(markup)
    return {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}


async def alerts_message(emulator: BotApiEmulator, language: str = "es") -> dict[str, Any]:
    emulator.push_message(ALLOWED, "/alerts", language_code=language)
    await emulator.wait_for_call("sendMessage")
    return emulator.bot_messages(ALLOWED)[-1]


async def press(emulator: BotApiEmulator, message: dict[str, Any], text: str, language: str = "es") -> dict[str, Any]:
    edits = len(emulator.calls_of("editMessageText"))
    emulator.push_callback(ALLOWED, message["message_id"], buttons(message)[text], language_code=language)
    await emulator.wait_for_call("editMessageText", count=edits + 1)
    [edited] = [m for m in emulator.bot_messages(ALLOWED) if m["message_id"] == message["message_id"]]
    return edited


@pytest.mark.parametrize(("language", "lines"), [
    ("es", ["Monedas con Alert=YES: 2 de 5 en la lista.",
            "🔔 BTC_USDT: última señal COMPRA a 95.000,00\u00a0USDT, 5 dic 2026, 08:00 UTC",
            "🔕 ETH_USDT", "Ejecuciones y cambios de órdenes: 🔔 activado"]),
    ("en", ["Coins with Alert=YES: 2 of 5 on the watchlist.",
            "🔔 BTC_USDT: last signal BUY at 95,000.00\u00a0USDT, Dec 5, 2026, 08:00 UTC",
            "🔕 ETH_USDT", "Fills and order changes: 🔔 on"]),
])
async def test_alerts_lists_the_coins_their_last_signal_and_the_levels(running_bot: BotApiEmulator, language: str,
                                                                       lines: list[str]) -> None:
    message = await alerts_message(running_bot, language)
    for line in lines:
        assert line in message["text"].split("\n")
    assert "SOL_USDT" not in message["text"]                       # on the next page (3 a page)
    assert {"🔔 BTC_USDT", "🔕 ETH_USDT", "🔕 ADA_USDT"} <= set(buttons(message))


async def test_a_coins_toggle_flips_its_alert_flag_and_edits_the_message(running_bot: BotApiEmulator) -> None:
    message = await alerts_message(running_bot)
    edited = await press(running_bot, message, "🔕 ETH_USDT")
    assert (await WatchlistEntry.get(symbol="ETH_USDT")).alert_enabled
    assert "🔔 ETH_USDT: aún sin señales" in edited["text"] and "🔔 ETH_USDT" in buttons(edited)
    assert "Monedas con Alert=YES: 3 de 5" in edited["text"]
    assert len(running_bot.calls_of("sendMessage")) == 1          # edited in place, nothing new sent


async def test_a_kinds_button_moves_it_on_silent_off_and_on_again(running_bot: BotApiEmulator) -> None:
    message = await alerts_message(running_bot, "en")
    levels = []
    for label in ("🔔 Signals and automatic orders: on", "🔈 Signals and automatic orders: silent",
                  "🔕 Signals and automatic orders: off"):
        message = await press(running_bot, message, label, "en")
        user = await User.get(telegram_id=ALLOWED)
        levels.append(user.notification_levels["signal"])
    assert levels == ["silent", "off", "on"]


async def test_pages_and_refresh_edit_the_same_message(running_bot: BotApiEmulator) -> None:
    message = await alerts_message(running_bot, "en")
    second = await press(running_bot, message, "More coins ▶", "en")
    assert "🔔 SOL_USDT: no signal yet" in second["text"] and "BTC_USDT" not in second["text"].split("\n\n")[1]
    assert "More coins ▶" not in buttons(second) and "⏮ First coins" in buttons(second)
    refreshed = await press(running_bot, second, "🔄 Refresh", "en")
    assert refreshed["text"] == second["text"]
    first = await press(running_bot, refreshed, "⏮ First coins", "en")
    assert "BTC_USDT" in first["text"]


async def test_a_stranger_gets_no_data_and_changes_nothing(running_bot: BotApiEmulator) -> None:
    running_bot.push_message(STRANGER, "/alerts", language_code="en")
    call = await running_bot.wait_for_call("sendMessage")
    assert call.params["text"] == "Sorry, this is a private bot."
    data = AlertsCallback(action="coin", symbol="ETH_USDT").pack()
    running_bot.push_callback(STRANGER, 1, data, language_code="en")
    await running_bot.wait_for_call("answerCallbackQuery")
    await asyncio.sleep(0.2)
    assert not (await WatchlistEntry.get(symbol="ETH_USDT")).alert_enabled
    assert running_bot.calls_of("editMessageText") == []


def test_the_alerts_message_escapes_and_fits_every_callback_in_64_bytes() -> None:
    i18n = I18n(path=LOCALES, default_locale="es", domain="messages")
    long_symbol = "<B&>" + "X" * 16 + "_USDT"
    view = AlertsView(coins=[CoinAlert(long_symbol, True, False, LastSignal("SELL", D("0.00001234"),
                                                                             datetime(2026, 1, 1, tzinfo=UTC)))],
                      after="Y" * 20 + "_USDT", next_after=long_symbol, watched=1, alerted=1,
                      levels={k: Level.SILENT for k in Kind}, timezone="Europe/Madrid")
    text, markup = render_alerts(view, Reader(i18n, "es", view.timezone))
    assert "&lt;B&amp;&gt;" in text and "<B&>" not in text
    assert "VENTA a 0,00001234\u00a0USDT, 1 ene 2026, 01:00 CET" in text
    assert all(len(b.callback_data.encode()) <= 64 for row in markup.inline_keyboard for b in row
               if b.callback_data)
