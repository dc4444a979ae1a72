"""/settings through the real dispatcher and the Bot API emulator."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.db.models import User
from tests.telegram.market_harness import ALLOWED, STRANGER, MarketBot, market_bot

__all__ = ["market_bot"]
NB = "\u00a0"


@pytest.mark.parametrize(("language", "expected"), [
    ("en", ["⚙️ <b>Settings</b>", "Language: 🇬🇧 English", "Time zone: UTC (default) — now ",
            "Daily report: 08:00 (default)",
            f"Default stop-loss: 3.00{NB}% (default) · take-profit: 3.00{NB}% (default)"]),
    ("es", ["⚙️ <b>Ajustes</b>", "Idioma: 🇪🇸 Español", "Zona horaria: UTC (por defecto) — ahora son las ",
            "Informe diario: 08:00 (por defecto)",
            f"Stop-loss por defecto: 3,00{NB}% (por defecto) · take-profit: 3,00{NB}% (por defecto)"]),
])
async def test_settings_show_every_value_and_where_it_comes_from(market_bot: MarketBot, language: str,
                                                                 expected: list[str]) -> None:
    shown = await market_bot.chat(language=language).send("/settings")
    for line in expected:
        assert line in shown.text


async def test_changing_the_language_answers_in_the_new_one_from_then_on(market_bot: MarketBot) -> None:
    chat = market_bot.chat(language="en")          # Telegram says English...
    shown = await chat.send("/settings")
    changed = await chat.press(shown, "Español")
    assert changed.kind == "edit" and changed.text.startswith("✅ Idioma cambiado.")
    assert "• 🇪🇸 Español" in [t for t, _ in changed.buttons]
    assert (await User.get(telegram_id=ALLOWED)).language == "es"
    assert (await chat.send("/watchlist")).text.startswith("👁 <b>Lista de seguimiento</b>")   # ...the choice wins


async def test_pressing_the_language_already_shown_claims_no_change(market_bot: MarketBot) -> None:
    chat = market_bot.chat(language="es")
    shown = await chat.send("/settings")
    kept = await chat.press(shown, "Español")
    assert kept.text.startswith("⚙️") and "cambiado" not in kept.text
    assert (await User.get(telegram_id=ALLOWED)).language == "es"          # now chosen, not inferred


async def test_a_time_zone_from_the_buttons_or_typed(market_bot: MarketBot) -> None:
    chat = market_bot.chat()
    zones = await chat.press(await chat.send("/settings"), "Time zone")
    assert zones.text.startswith("Your time zone is UTC. Choose one, or send its name")
    assert "America/Argentina/Buenos_Aires" in [t for t, _ in zones.buttons]
    saved = await chat.press(zones, "Europe/Madrid")
    assert saved.text.startswith("✅ Saved.") and "Time zone: Europe/Madrid — now " in saved.text
    zones = await chat.press(saved, "Time zone")
    refused = await chat.send("Europe/Madird")
    assert refused.text.startswith("⚠️ “Europe/Madird” is not a time zone I know")
    assert "Did you mean:" in refused.text
    typed = await chat.send("america/new york")
    assert "Time zone: America/New_York" in typed.text
    assert (await User.get(telegram_id=ALLOWED)).timezone == "America/New_York"
    assert zones.kind == "edit"


async def test_the_daily_report_time(market_bot: MarketBot) -> None:
    chat = market_bot.chat(language="es")
    times = await chat.press(await chat.send("/settings"), "Hora del informe")
    assert times.text.startswith("El informe diario llega a las 08:00 (UTC)")
    assert (await chat.send("25:00")).text.startswith("⚠️ «25:00» no es una hora: usa HH:MM")
    saved = await chat.send("7:30")
    assert "Informe diario: 07:30" in saved.text and "(por defecto)" not in saved.text.split("\n")[5]
    again = await chat.press(await chat.send("/settings"), "Hora del informe")
    assert "Informe diario: 20:00" in (await chat.press(again, "20:00")).text
    assert (await User.get(telegram_id=ALLOWED)).daily_alert_time == "20:00"


@pytest.mark.parametrize(("typed", "refusal"), [("abc", "“abc” is not a number"), ("-1", "greater than 0"),
                                                ("0", "greater than 0"), ("1e9", "at most 90"),
                                                ("2.555", "at most 2 decimals")])
async def test_default_stop_loss_refuses_bad_input(market_bot: MarketBot, typed: str, refusal: str) -> None:
    chat = market_bot.chat()
    prompt = await chat.press(await chat.send("/settings"), "SL %")
    assert prompt.text == f"Send the new default stop-loss in % (now 3.00{NB}%), e.g. 3."
    assert refusal in (await chat.send(typed)).text
    saved = await chat.send("2.5")
    assert f"Default stop-loss: 2.50{NB}% · take-profit: 3.00{NB}% (default)" in saved.text
    assert (await User.get(telegram_id=ALLOWED)).default_stop_loss_percent == Decimal("2.5")


async def test_back_leaves_the_conversation(market_bot: MarketBot) -> None:
    chat = market_bot.chat()
    prompt = await chat.press(await chat.send("/settings"), "TP %")
    back = await chat.press(prompt, "Back")
    assert back.text.startswith("⚙️ <b>Settings</b>")
    # Outside the conversation "9" is no value to save: only the catch-all's pointer to /help answers it.
    assert (await chat.send("9")).text == "I didn't understand that. /help lists what I can do."
    assert await User.filter(telegram_id=ALLOWED, default_take_profit_percent=Decimal(9)).count() == 0


async def test_a_stranger_changes_nothing(market_bot: MarketBot) -> None:
    stranger = market_bot.chat(STRANGER)
    assert (await stranger.send("/settings")).text == "Sorry, this is a private bot."
    for data in ("st:language:es", "st:zone:Asia/Tokyo", "st:at:0700", "st:percent:stop_loss_percent"):
        market_bot.emulator.push_callback(STRANGER, 1, data, language_code="en")
    market_bot.emulator.push_message(STRANGER, "5", language_code="en")
    assert [o.text for o in await stranger.quiet()] == ["Sorry, this is a private bot."]
    assert await User.filter(telegram_id=STRANGER).count() == 0


async def test_a_command_while_a_time_zone_is_awaited_ends_the_conversation(market_bot: MarketBot) -> None:
    chat = market_bot.chat()
    await chat.press(await chat.send("/settings"), "Time zone")
    await chat.send("/orders")
    # No longer a step of the edit: only the catch-all's pointer to /help answers it.
    assert (await chat.send("Europe/Madrid")).text == "I didn't understand that. /help lists what I can do."
    assert not await User.filter(telegram_id=ALLOWED, timezone="Europe/Madrid").exists()


async def test_the_catch_all_never_takes_a_conversation_step(market_bot: MarketBot) -> None:
    chat = market_bot.chat()
    assert (await chat.send("Europe/Madrid")).text == "I didn't understand that. /help lists what I can do."
    await chat.press(await chat.send("/settings"), "Time zone")
    typed = await chat.send("Europe/Madrid")             # the step of the edit: the settings router's
    assert "Time zone: Europe/Madrid" in typed.text
    assert (await chat.send("/nosuch")).text == "I don't know the command /nosuch. /help lists what I can do."
