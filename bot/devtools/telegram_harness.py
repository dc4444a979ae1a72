"""A real aiogram Bot talking to the project's Bot API emulator on a loopback port, for tests and
benchmarks (product code never imports bot.devtools)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiohttp import web

from bot.sandbox import BotApiEmulator

TOKEN = "123456:TEST-NOTIFIER"


@contextlib.asynccontextmanager
async def emulated_bot(emulator: BotApiEmulator) -> AsyncIterator[Bot]:
    runner = web.AppRunner(emulator.make_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    session = AiohttpSession(api=TelegramAPIServer.from_base(f"http://127.0.0.1:{port}"))
    bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    try:
        yield bot
    finally:
        await bot.session.close()
        await runner.cleanup()
