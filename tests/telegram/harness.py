"""The whole application against the crypto.com simulator (through the live adapter) and the Bot API
emulator, and a chat driver: send a command or press a button as a Telegram user, read what the bot
sent or edited. Everything goes over loopback through the real aiogram client."""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

from aiogram.fsm.storage.memory import MemoryStorage

from bot.compose import Application, build_application
from bot.domain.orders import OrderType, Side
from bot.exchange.base import OrderRequest
from bot.sandbox import BotApiEmulator
from bot.sandbox.emulator import RecordedCall
from bot.settings import Settings, load_settings
from bot.telegram.setup import build_bot, build_dispatcher, register_commands
from tests.services.sim_exchange import SimulatedExchange, simulated_exchange

D = Decimal
OWNER, PARTNER, STRANGER = 4242, 4343, 999
# The tags Telegram's HTML parse mode accepts (a message with any other is refused).
TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler",
                 "span", "blockquote"}


class _TelegramHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        assert tag in TELEGRAM_TAGS, f"<{tag}> is not allowed by Telegram"
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes nothing"
        self.open.pop()

    def handle_entityref(self, name: str) -> None:
        assert name in ("lt", "gt", "amp", "quot"), f"&{name}; is not an entity Telegram knows"


def assert_valid_html(text: str) -> None:
    """What Telegram checks before it accepts an HTML message: known tags, balanced, only its entities,
    no bare `<` or `&`."""
    assert len(text) <= 4096, f"{len(text)} characters"
    assert not re.search(r"&(?!(lt|gt|amp|quot|#\d+);)", text), "a bare & in the text"
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    assert not parser.open, f"unclosed {parser.open}"


def plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


@dataclass
class Chat:
    """One Telegram user talking to the bot."""

    emulator: BotApiEmulator
    user_id: int
    language: str = "en"

    def _mine(self, call: RecordedCall) -> bool:
        return call.params.get("chat_id") == str(self.user_id)

    def _count(self, method: str) -> int:
        return len([c for c in self.emulator.calls_of(method) if self._mine(c)])

    async def send(self, text: str, *, timeout: float = 10) -> dict[str, Any]:
        """Send a message; returns the bot's next message in this chat."""
        before = self._count("sendMessage")
        self.emulator.push_message(self.user_id, text, language_code=self.language)
        return await self.next_message(before, timeout=timeout)

    async def next_message(self, before: int, *, timeout: float = 10) -> dict[str, Any]:
        await self.emulator.wait_for_call("sendMessage", count=before + 1, where=self._mine, timeout=timeout)
        return self.messages()[before]

    def messages(self) -> list[dict[str, Any]]:
        return self.emulator.bot_messages(self.user_id)

    def message(self, message_id: int) -> dict[str, Any]:
        return next(m for m in self.messages() if m["message_id"] == message_id)

    async def press(self, message: dict[str, Any], label: str, *, timeout: float = 10) -> Pressed:
        """Press the first button whose text contains `label`; waits for the press to be answered."""
        data = button_data(message, label)
        return await self.press_data(message["message_id"], data, timeout=timeout)

    async def press_data(self, message_id: int, data: str, *, timeout: float = 10) -> Pressed:
        answers = len(self.emulator.calls_of("answerCallbackQuery"))
        sent, edits = self._count("sendMessage"), self._count("editMessageText")
        update = self.emulator.push_callback(self.user_id, message_id, data, language_code=self.language)
        query_id = update["callback_query"]["id"]
        answer = await self.emulator.wait_for_call(
            "answerCallbackQuery", count=1, timeout=timeout,
            where=lambda c: c.params.get("callback_query_id") == query_id)
        await asyncio.sleep(0.05)       # an edit or a message sent right after the answer
        del answers
        return Pressed(self, answer, sent, edits)


@dataclass
class Pressed:
    chat: Chat
    answer: RecordedCall
    sent_before: int
    edits_before: int

    @property
    def alert(self) -> str | None:
        return self.answer.params.get("text")

    async def new_message(self, timeout: float = 10) -> dict[str, Any]:
        return await self.chat.next_message(self.sent_before, timeout=timeout)

    async def edited(self, timeout: float = 10) -> RecordedCall:
        return await self.chat.emulator.wait_for_call(
            "editMessageText", count=self.edits_before + 1, where=self.chat._mine, timeout=timeout)

    def sent_nothing(self) -> bool:
        return (self.chat._count("sendMessage"), self.chat._count("editMessageText")) == (
            self.sent_before, self.edits_before)


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]


def button_data(message: dict[str, Any], label: str) -> str:
    for text, data in buttons(message):
        if label in text:
            return data
    raise AssertionError(f"no button {label!r} among {[t for t, _ in buttons(message)]}")


@dataclass
class World:
    app: Application
    exchange: SimulatedExchange
    emulator: BotApiEmulator

    def chat(self, user_id: int = OWNER, language: str = "en") -> Chat:
        return Chat(self.emulator, user_id, language)

    async def sync(self) -> None:
        await self.app.services.sync.run_cycle()


def report_time_not_due(now: datetime | None = None) -> str:
    """A daily report time 12 hours away from `now` (the test's clock, else the real one): no report
    falls due (or is caught up within its 6 hours) before the test sets each person's own time."""
    return ((now or datetime.now(UTC)) + timedelta(hours=12)).strftime("%H:%M")


def bot_pace_for(emulator: BotApiEmulator) -> dict[str, str]:
    """The bot's send pacing for the flood limits this emulator enforces (none: unpaced)."""
    limits = emulator.flood_limits
    if limits is None:
        return {"TELEGRAM_CHAT_SEND_INTERVAL_SECONDS": "0", "TELEGRAM_SENDS_PER_SECOND": "1000"}
    # As against Telegram: a little under its global limit, so jitter never bunches one send too many.
    return {"TELEGRAM_CHAT_SEND_INTERVAL_SECONDS": str(limits.per_chat_interval),
            "TELEGRAM_SENDS_PER_SECOND": str(max(1, limits.global_per_second * 14 // 15))}


@contextlib.asynccontextmanager
async def running_app(db: str, aiohttp_server: Any, monkeypatch: Any, *, balances: dict[str, Decimal] | None = None,
                      native_oco: bool = True, env: dict[str, str] | None = None,
                      emulator: BotApiEmulator | None = None,
                      clock: Callable[[], datetime] | None = None) -> AsyncIterator[World]:
    """`clock`: the daily report's and the actions' clock, set before the start (whose catch-up asks it)."""
    emulator = emulator or BotApiEmulator()
    server = await aiohttp_server(emulator.make_app())
    values = {"TELEGRAM_BOT_TOKEN": "123456:TEST-TOKEN", "TELEGRAM_API_URL": str(server.make_url("")),
              "TELEGRAM_ALLOWED_USERS": f"{OWNER},{PARTNER}", "DATABASE_URL": db, "WEBAPP_PORT": "0",
              "DEFAULT_LANGUAGE": "en", "DAILY_ALERT_TIME": report_time_not_due(clock() if clock else None),
              **bot_pace_for(emulator), **(env or {})}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    async with simulated_exchange(balances or {"USDT": D(100000), "BTC": D("0.5")}, native_oco=native_oco) as exchange:
        app = await build_application(load_settings(), exchange=exchange.adapter)
        # Waits shortened for tests (as the adapter's): no 1 s pacing of history reads, 2 days of back-fill.
        app.services.sync.history.min_interval_s = 0
        app.services.sync.backfill_days = 2
        if clock is not None:
            app.telegram.daily_report.service.clock = clock
            app.services.actions.clock = clock
        await app.start()
        try:
            await emulator.wait_for_call("getUpdates")
            yield World(app, exchange, emulator)
        finally:
            await app.shutdown()


async def hand_buy_filled(world: World) -> None:
    """A buy of 0.01 BTC at 100,000 placed by hand, seen open by a sync, then filled and synced."""
    await world.sync()
    await world.exchange.create_order(OrderRequest(symbol="BTC_USDT", side=Side.BUY, order_type=OrderType.LIMIT,
                                                   client_oid="hand-buy", quantity=D("0.01"), price=D(100000)))
    await world.sync()
    world.exchange.set_price("BTC_USDT", D(100000))
    await world.sync()


async def account_with_everything(world: World) -> None:
    """0.5 BTC held from before (unprotected), a buy of 0.01 BTC that filled and was protected by an
    OCO group, and a limit buy resting at 50,000 outside any group."""
    await hand_buy_filled(world)
    await world.exchange.create_order(OrderRequest(symbol="BTC_USDT", side=Side.BUY, order_type=OrderType.LIMIT,
                                                   client_oid="hand-low", quantity=D("0.01"), price=D(50000)))
    world.exchange.set_price("BTC_USDT", D(101000))
    await world.sync()
    await world.sync()


@contextlib.asynccontextmanager
async def polling_dispatcher(aiohttp_server: Any, settings: Settings, services: dict[str, Any], *,
                             commands: bool = False) -> AsyncIterator[BotApiEmulator]:
    """Only the dispatcher (with the given services) polling a fresh Bot API emulator, for the
    views that need no exchange; stopped, and its session closed, on the way out."""
    emulator = BotApiEmulator()
    server = await aiohttp_server(emulator.make_app())
    bot = build_bot(settings, api_url=str(server.make_url("")))
    dispatcher = build_dispatcher(settings, services=services, storage=MemoryStorage())
    if commands:
        await register_commands(bot, settings)
    polling = asyncio.create_task(dispatcher.start_polling(bot, polling_timeout=1, handle_signals=False))
    await emulator.wait_for_call("getUpdates")
    try:
        yield emulator
    finally:
        await dispatcher.stop_polling()
        await asyncio.wait_for(polling, 10)
        await bot.session.close()
