"""The real aiogram dispatcher polling the Bot API emulator over loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.sandbox import BotApiEmulator
from bot.settings import load_settings
from bot.telegram.middlewares.language import pick_language
from tests.telegram.harness import polling_dispatcher

ALLOWED, STRANGER = 111, 999


@pytest.fixture
async def running_bot(db: str, aiohttp_server, monkeypatch) -> AsyncIterator[BotApiEmulator]:
    monkeypatch.setenv("TELEGRAM_ALLOWED_USERS", str(ALLOWED))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST-TOKEN")
    settings = load_settings()
    async with polling_dispatcher(aiohttp_server, settings, {}, commands=True) as emulator:
        yield emulator


def text_of(call: Any) -> str:
    return str(call.params.get("text", ""))


@pytest.mark.parametrize(("language", "greeting", "button"), [("es", "¡Hola", "Ayuda"), ("en", "Hello", "Help")])
async def test_start_shows_the_menu_in_the_users_language(running_bot: BotApiEmulator, language: str,
                                                          greeting: str, button: str) -> None:
    running_bot.push_message(ALLOWED, "/start", language_code=language)
    call = await running_bot.wait_for_call("sendMessage")
    assert text_of(call).startswith(greeting)
    labels = [b["text"] for row in json.loads(call.params["reply_markup"])["inline_keyboard"] for b in row]
    assert any(label.endswith(button) for label in labels)


@pytest.mark.parametrize(("language", "expected"), [("es", "/help — Qué puede hacer el bot"),
                                                    ("en", "/help — What the bot can do")])
async def test_help_lists_every_command(running_bot: BotApiEmulator, language: str, expected: str) -> None:
    running_bot.push_message(ALLOWED, "/help", language_code=language)
    call = await running_bot.wait_for_call("sendMessage")
    assert expected in text_of(call) and "/start" in text_of(call)


async def test_help_button_answers_and_shows_help(running_bot: BotApiEmulator) -> None:
    running_bot.push_message(ALLOWED, "/start", language_code="en")
    await running_bot.wait_for_call("sendMessage")
    menu = running_bot.bot_messages(ALLOWED)[-1]
    running_bot.push_callback(ALLOWED, menu["message_id"], "menu:help", language_code="en")
    await running_bot.wait_for_call("answerCallbackQuery")
    call = await running_bot.wait_for_call("sendMessage", count=2)
    assert "Commands:" in text_of(call)


async def test_a_stranger_gets_one_short_refusal_and_no_data(running_bot: BotApiEmulator) -> None:
    running_bot.push_message(STRANGER, "/start", language_code="es")
    call = await running_bot.wait_for_call("sendMessage")
    assert text_of(call) == "Lo siento, este bot es privado."
    assert "reply_markup" not in call.params
    await asyncio.sleep(0.3)
    assert len(running_bot.calls_of("sendMessage")) == 1


async def test_a_strangers_button_press_is_answered_and_ignored(running_bot: BotApiEmulator) -> None:
    running_bot.push_callback(STRANGER, 1, "menu:help", language_code="en")
    call = await running_bot.wait_for_call("answerCallbackQuery")
    assert call.params.get("text") == "Sorry, this is a private bot."
    await asyncio.sleep(0.3)
    assert running_bot.calls_of("sendMessage") == [] and running_bot.calls_of("editMessageText") == []


async def test_commands_are_registered_in_both_languages(running_bot: BotApiEmulator) -> None:
    assert [c["command"] for c in running_bot.commands["es"]] == [
        "start", "orders", "portfolio", "signals", "analyze", "watchlist", "alerts", "settings", "help"]
    assert running_bot.commands["es"][-1]["description"] == "Qué puede hacer el bot"
    assert running_bot.commands["en"][-1]["description"] == "What the bot can do"


@pytest.mark.parametrize(("saved", "code", "default", "expected"), [
    ("en", "es", "es", "en"), (None, "es-MX", "en", "es"), (None, "en_US", "es", "en"),
    (None, "fr", "es", "es"), (None, None, "en", "en")])
def test_language_choice_order(saved, code, default, expected) -> None:
    assert pick_language(saved, code, default) == expected
