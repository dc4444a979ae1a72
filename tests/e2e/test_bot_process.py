"""End to end: the real `python -m bot run` process polling the Bot API emulator over loopback."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.sandbox import BotApiEmulator
from tests.processes import bot_env

ROOT = Path(__file__).resolve().parents[2]
ALLOWED, STRANGER = 4242, 777
pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def bot_process(aiohttp_server, tmp_path: Path) -> AsyncIterator[tuple[BotApiEmulator, int]]:
    emulator = BotApiEmulator()
    server = await aiohttp_server(emulator.make_app())
    web_port = free_port()
    env = bot_env(**{
        "TELEGRAM_BOT_TOKEN": "123456:TEST-E2E",
        "TELEGRAM_API_URL": str(server.make_url("")).rstrip("/"),
        "TELEGRAM_ALLOWED_USERS": str(ALLOWED),
        "DATABASE_URL": f"sqlite://{tmp_path}/bot.sqlite3",
        "WEBAPP_PORT": str(web_port),
        "MARKET_DATA": f"replay:{ROOT / 'bot' / 'data' / 'candles'}",
        "LOG_LEVEL": "INFO",
        # 12 hours away: no daily report falls due (nor is caught up at start) while the test counts messages.
        "DAILY_ALERT_TIME": (datetime.now(UTC) + timedelta(hours=12)).strftime("%H:%M"),
    })
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        await emulator.wait_for_call("getUpdates", timeout=60)
        yield emulator, web_port
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 30)
        log = output.decode()
        assert process.returncode == 0, log
        assert "Traceback" not in log, log
        assert "TEST-E2E" not in log


async def test_start_and_help_in_both_languages(bot_process) -> None:
    emulator, _ = bot_process
    emulator.push_message(ALLOWED, "/start", language_code="es")
    call = await emulator.wait_for_call("sendMessage")
    assert call.params["text"].startswith("¡Hola") and "Ayuda" in call.params["reply_markup"]
    emulator.push_message(ALLOWED, "/help", language_code="en")
    call = await emulator.wait_for_call("sendMessage", count=2)
    assert "/help — What the bot can do" in call.params["text"]
    emulator.push_message(ALLOWED, "/start", language_code="en")
    call = await emulator.wait_for_call("sendMessage", count=3)
    assert call.params["text"].startswith("Hello") and "Help" in call.params["reply_markup"]
    emulator.push_message(ALLOWED, "/help", language_code="es")
    call = await emulator.wait_for_call("sendMessage", count=4)
    assert "/help — Qué puede hacer el bot" in call.params["text"]
    assert {c.params.get("language_code") for c in emulator.calls_of("setMyCommands")} >= {"es", "en"}


async def test_refused_user_and_refused_callback(bot_process) -> None:
    emulator, _ = bot_process
    emulator.push_message(STRANGER, "/start", language_code="en")
    call = await emulator.wait_for_call("sendMessage")
    assert call.params["text"] == "Sorry, this is a private bot." and "reply_markup" not in call.params
    emulator.push_callback(STRANGER, 1, "menu:help", language_code="es")
    answer = await emulator.wait_for_call("answerCallbackQuery")
    assert answer.params["text"] == "Lo siento, este bot es privado."
    await asyncio.sleep(0.5)
    assert len(emulator.calls_of("sendMessage")) == 1


async def test_healthz_answers_without_auth_and_without_secrets(bot_process) -> None:
    from aiohttp import ClientSession

    _, web_port = bot_process
    async with ClientSession() as session:
        for _ in range(50):
            async with session.get(f"http://127.0.0.1:{web_port}/healthz") as response:
                body = await response.text()
                report = json.loads(body)
                if report["checks"].get("telegram", {}).get("ok"):
                    break
            await asyncio.sleep(0.2)
    assert report["mode"] == "paper"
    assert report["checks"]["database"]["ok"] and report["checks"]["telegram"]["ok"]
    assert "TEST-E2E" not in body and "123456:" not in body


async def test_unknown_commands_and_plain_text_get_a_pointer_to_help(bot_process) -> None:
    emulator, _ = bot_process
    replies = []
    for count, (text, language) in enumerate([("/nosuchcommand", "en"), ("hola, ¿qué tal?", "es"),
                                              ("/foo@cryptobot extra words", "es"), ("what now?", "en")], start=1):
        emulator.push_message(ALLOWED, text, language_code=language)
        replies.append((await emulator.wait_for_call("sendMessage", count=count)).params["text"])
    assert replies == [
        "I don't know the command /nosuchcommand. /help lists what I can do.",
        "No lo he entendido. /help muestra lo que puedo hacer.",
        "No conozco el comando /foo. /help muestra lo que puedo hacer.",
        "I didn't understand that. /help lists what I can do.",
    ]
    emulator.push_callback(ALLOWED, 1, "gone:button", language_code="es")
    answer = await emulator.wait_for_call("answerCallbackQuery")
    assert answer.params["text"] == "Este botón ya no hace nada. Envía /start para ver el menú."
