"""The market views end to end: the real dispatcher (built by the composition root's services)
polling the Bot API emulator over loopback, with the paper exchange replaying the bundled candles.

`ChatDriver` plays one Telegram user: it sends text, presses buttons by their label, and waits
for what the bot sends or edits in answer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage

from bot.compose import Services, build_services
from bot.exchange.marketdata import ReplayMarketData
from bot.exchange.paper import BUNDLED, PaperExchange, build_paper_exchange
from bot.sandbox import BotApiEmulator
from bot.services.events import EventBus
from bot.settings import Settings, load_settings
from bot.telegram.setup import build_bot, build_dispatcher

ALLOWED, STRANGER = 111, 999
OUTPUT_METHODS = ("sendMessage", "editMessageText", "sendPhoto", "editMessageCaption", "editMessageMedia")


@dataclass
class Output:
    """One thing the bot did in the chat: a new or edited message (its current state)."""
    kind: str                     # "message" | "edit"
    message: dict[str, Any]

    @property
    def text(self) -> str:
        return str(self.message.get("text") or self.message.get("caption") or "")

    @property
    def buttons(self) -> list[tuple[str, str]]:
        markup = self.message.get("reply_markup") or {}
        return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]

    def data_of(self, label: str) -> str:
        """The callback data of the first button whose text contains `label`."""
        for text, data in self.buttons:
            if label in text:
                return data
        raise AssertionError(f"no button {label!r} in {[t for t, _ in self.buttons]}")


@dataclass
class ChatDriver:
    emulator: BotApiEmulator
    user_id: int
    language: str = "en"
    outputs: asyncio.Queue[Output] = field(default_factory=asyncio.Queue)

    def __post_init__(self) -> None:
        def listen(kind: str, message: dict[str, Any]) -> None:
            if message.get("chat", {}).get("id") == self.user_id:
                self.outputs.put_nowait(Output(kind, json.loads(json.dumps(message))))
        self.emulator.listeners.append(listen)

    async def next(self, timeout: float = 10) -> Output:
        return await asyncio.wait_for(self.outputs.get(), timeout)

    async def send(self, text: str, *, count: int = 1) -> Output:
        """Send `text`; the last of the `count` outputs it causes."""
        self.emulator.push_message(self.user_id, text, language_code=self.language)
        return await self._collect(count)

    async def press(self, on: Output, label: str, *, count: int = 1) -> Output:
        return await self.press_data(on, on.data_of(label), count=count)

    async def press_data(self, on: Output, data: str, *, count: int = 1) -> Output:
        self.emulator.push_callback(self.user_id, int(on.message["message_id"]), data, language_code=self.language)
        return await self._collect(count)

    async def _collect(self, count: int) -> Output:
        out = None
        for _ in range(count):
            out = await self.next()
        assert out is not None
        return out

    async def quiet(self, seconds: float = 0.3) -> list[Output]:
        """What the bot sends in the next `seconds` (to check that it sends nothing)."""
        await asyncio.sleep(seconds)
        found = []
        while not self.outputs.empty():
            found.append(self.outputs.get_nowait())
        return found


@dataclass
class MarketBot:
    emulator: BotApiEmulator
    services: Services
    exchange: PaperExchange
    settings: Settings
    bot: Bot
    dispatcher: Dispatcher
    storage: BaseStorage

    def chat(self, user_id: int = ALLOWED, language: str = "en") -> ChatDriver:
        return ChatDriver(self.emulator, user_id, language)


def paper_exchange(settings: Settings, warmup: int = 400) -> PaperExchange:
    return build_paper_exchange(settings, market_data=ReplayMarketData(BUNDLED, warmup=warmup), store=None,
                                pace_seconds=0)


@pytest.fixture
async def market_bot(db: str, aiohttp_server, monkeypatch) -> AsyncIterator[MarketBot]:
    async with running_market_bot(aiohttp_server, monkeypatch) as running:
        yield running


class _Running:
    def __init__(self, aiohttp_server: Any, monkeypatch: Any, *, allowed: tuple[int, ...] = (ALLOWED,),
                 storage: BaseStorage | None = None, emulator: BotApiEmulator | None = None,
                 configure: Callable[[MarketBot], Any] | None = None) -> None:
        self.aiohttp_server, self.monkeypatch = aiohttp_server, monkeypatch
        self.allowed, self.storage, self.emulator = allowed, storage, emulator
        self.running: MarketBot | None = None
        self.polling: asyncio.Task[Any] | None = None

    async def __aenter__(self) -> MarketBot:
        self.monkeypatch.setenv("TELEGRAM_ALLOWED_USERS", ",".join(str(a) for a in self.allowed))
        self.monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST-TOKEN")
        self.monkeypatch.setenv("DEFAULT_LANGUAGE", "en")
        self.monkeypatch.setenv("TIMEZONE", "UTC")
        settings = load_settings()
        emulator = self.emulator or BotApiEmulator()
        server = await self.aiohttp_server(emulator.make_app())
        exchange = paper_exchange(settings)
        await exchange.start()
        services = build_services(settings, exchange, EventBus())
        storage = self.storage or MemoryStorage()
        bot = build_bot(settings, api_url=str(server.make_url("")))
        dispatcher = build_dispatcher(settings, services=services.handler_dependencies(), storage=storage)
        self.polling = asyncio.create_task(dispatcher.start_polling(bot, polling_timeout=1, handle_signals=False,
                                                                    close_bot_session=False))
        await emulator.wait_for_call("getUpdates")
        self.running = MarketBot(emulator, services, exchange, settings, bot, dispatcher, storage)
        return self.running

    async def __aexit__(self, *exc: object) -> None:
        assert self.running is not None and self.polling is not None
        await self.running.dispatcher.stop_polling()
        await asyncio.wait_for(self.polling, 10)
        await self.running.bot.session.close()
        await self.running.exchange.close()


def running_market_bot(aiohttp_server: Any, monkeypatch: Any, **options: Any) -> _Running:
    return _Running(aiohttp_server, monkeypatch, **options)
