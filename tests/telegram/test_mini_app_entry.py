"""The dashboard opens from the chat when it has a public HTTPS address; without one /start says how."""

from __future__ import annotations

import json

import pytest
from aiogram.utils.i18n import I18n

from bot.sandbox import BotApiEmulator
from bot.settings import SettingsError, load_settings
from bot.telegram.setup import build_bot, build_i18n, register_commands
from bot.telegram.views.menu import render_start
from bot.telegram.wording import Reader

URL = "https://bot.example.org/app"


def reader(language: str) -> Reader:
    i18n: I18n = build_i18n(language)
    return Reader(i18n, language)


@pytest.mark.parametrize(("language", "label"), [("en", "📊 Dashboard"), ("es", "📊 Panel")])
def test_start_has_a_dashboard_button_with_a_public_address(language: str, label: str) -> None:
    text, keyboard = render_start("Ana", "paper", reader(language), mini_app_url=URL)
    buttons = [b for row in keyboard.inline_keyboard for b in row if b.web_app is not None]
    assert [(b.text, b.web_app.url) for b in buttons if b.web_app] == [(label, URL)]
    assert "WEBAPP_PUBLIC_URL" not in text


def test_start_says_how_to_open_the_dashboard_without_one() -> None:
    text, keyboard = render_start("Ana", "paper", reader("en"))
    assert "WEBAPP_PUBLIC_URL" in text
    assert all(b.web_app is None for row in keyboard.inline_keyboard for b in row)


async def test_menu_button_opens_the_dashboard(aiohttp_server, monkeypatch) -> None:
    emulator = BotApiEmulator()
    server = await aiohttp_server(emulator.make_app())
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST-TOKEN")
    monkeypatch.setenv("WEBAPP_PUBLIC_URL", URL + "/")
    settings = load_settings()
    bot = build_bot(settings, api_url=str(server.make_url("")))
    try:
        await register_commands(bot, settings)
    finally:
        await bot.session.close()
    (call,) = emulator.calls_of("setChatMenuButton")
    button = json.loads(call.params["menu_button"])
    assert button["type"] == "web_app" and button["web_app"]["url"] == URL


def test_a_plain_http_public_address_is_refused_in_one_line(monkeypatch) -> None:
    monkeypatch.setenv("WEBAPP_PUBLIC_URL", "http://bot.example.org")
    with pytest.raises(SettingsError, match="WEBAPP_PUBLIC_URL"):
        load_settings()
