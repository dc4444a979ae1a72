"""The offline demo (`make run` with no configuration), the whole application built in one call and
replayed candle by candle as fast as it goes: the demo watchlist appears, signals come with their
reasons, an automatic paper BUY is placed under the rules and protected, and the chat is told.
The demo never exists outside the sandbox, nor over a watchlist the user already has."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.compose import Application, build_application
from bot.db.models import WatchlistEntry
from bot.domain.events import AutoOrderPlaced, Event, OrderFilled, ProtectionPlaced, SignalChanged
from bot.domain.orders import Side
from bot.exchange.factory import BUNDLED_CANDLES, build_exchange
from bot.exchange.paper import PaperExchange
from bot.sandbox import DEMO_USER_ID, BotApiEmulator
from bot.services.demo import DEMO_COINS, demo_job_seconds, demo_settings, is_demo, replay_from_ms
from bot.settings import Settings, load_settings

OUTSIDE = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "TELEGRAM_ALLOWED_USERS", "MARKET_DATA", "LIVE_TRADING",
           "REDIS_URL", "EXCHANGE_CUSTOM_API_KEY", "EXCHANGE_CUSTOM_API_SECRET")
NEVER = "86400"     # the jobs' own periods: the test runs each step itself


def sandbox_settings(db: str, monkeypatch: pytest.MonkeyPatch, **overrides: str) -> Settings:
    for name in OUTSIDE:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))      # the sandbox's terminal chat: nobody types
    values = {"DATABASE_URL": db, "WEBAPP_PORT": "0", "DEFAULT_LANGUAGE": "en",
              "DAILY_ALERT_TIME": (datetime.now(UTC) + timedelta(hours=12)).strftime("%H:%M"),
              "SYNC_INTERVAL_SECONDS": NEVER, "SIGNAL_INTERVAL_SECONDS": NEVER, "MARKET_INTERVAL_SECONDS": NEVER}
    return load_settings(**(values | overrides))


@pytest.fixture
async def demo(db: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Application, PaperExchange,
                                                                                  list[Event]]]:
    settings = sandbox_settings(db, monkeypatch, PAPER_REPLAY_SECONDS="3600")   # the test moves the clock
    assert is_demo(settings)
    # The paper exchange the composition root builds for the demo, kept at hand to step its replay.
    paper = build_exchange(demo_settings(settings), replay_from_ms=replay_from_ms())
    assert isinstance(paper, PaperExchange)
    app = await build_application(settings, exchange=paper)
    seen: list[Event] = []

    async def record(event: Event) -> None:
        seen.append(event)

    for kind in (SignalChanged, AutoOrderPlaced, OrderFilled, ProtectionPlaced):
        app.events.subscribe(kind, record)
    await app.start()
    try:
        yield app, paper, seen
    finally:
        await app.shutdown()


async def replay(app: Application, paper: PaperExchange, seen: list[Event], *, candles: int) -> int:
    """The demo's jobs (market, signals, sync) every second candle, as they run at the default pace;
    returns the candles it took until a protection was placed."""
    for step in range(1, candles + 1):
        await paper.advance()
        if step % 2 == 0:
            await app.services.signals.update_market()
            await app.services.signals.monitor()
        await app.services.sync.run_cycle()
        if any(isinstance(e, ProtectionPlaced) for e in seen):
            return step
    return candles


def messages(app: Application) -> list[str]:
    assert app.telegram.sandbox is not None
    emulator: BotApiEmulator = app.telegram.sandbox.emulator
    return [str(m.get("text", "")) for m in emulator.bot_messages(DEMO_USER_ID)]


async def test_the_demo_trades_on_paper_within_a_few_candles(demo: Any) -> None:
    app, paper, seen = demo
    watched = {e.symbol: e for e in await WatchlistEntry.all()}
    assert set(watched) == {c.symbol for c in DEMO_COINS}
    assert {s for s, e in watched.items() if e.trade_enabled} == {"BTC_USDT", "ETH_USDT", "SOL_USDT"}
    assert all(e.alert_enabled for e in watched.values())

    took = await replay(app, paper, seen, candles=24)
    # 24 candles are two minutes at the default 5 s a candle; it takes less than half of them.
    assert took <= 12, took

    signals = [e for e in seen if isinstance(e, SignalChanged)]
    assert signals and all(e.reasons and e.symbol in {"DOGE_USDT", "LINK_USDT", "XRP_USDT"} for e in signals)
    assert any(r.startswith("RSI ") for e in signals for r in e.reasons)
    placed = [e for e in seen if isinstance(e, AutoOrderPlaced)]
    assert placed and {e.symbol for e in placed} <= {"BTC_USDT", "ETH_USDT", "SOL_USDT"}
    for buy in placed:
        # Under the rules: the coin's amount (100 USD) and its 3 % stop-loss / take-profit.
        assert 99 <= buy.quantity * buy.price <= 100
        assert buy.stop_loss_price is not None and buy.take_profit_price is not None
        assert buy.stop_loss_price < buy.price < buy.take_profit_price
    filled = [e for e in seen if isinstance(e, OrderFilled) and e.side is Side.BUY]
    protected = [e for e in seen if isinstance(e, ProtectionPlaced)]
    assert filled and protected and protected[0].symbol in {e.symbol for e in placed}

    async def told() -> list[str]:
        while True:
            texts = messages(app)
            if any("Protection placed" in t for t in texts):
                return texts
            await asyncio.sleep(0.05)

    texts = await asyncio.wait_for(told(), 10)
    for headline in ("BUY signal:", "Automatic buy placed:", "Order filled:", "Protection placed:"):
        assert any(headline in t for t in texts), (headline, texts)


async def test_no_demo_over_a_watchlist_of_ones_own(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    await WatchlistEntry.create(symbol="ETH_USDT", alert_enabled=True)
    app = await build_application(sandbox_settings(db, monkeypatch, PAPER_REPLAY_SECONDS="3600"))
    await app.start()
    try:
        assert [e.symbol for e in await WatchlistEntry.all()] == ["ETH_USDT"]
    finally:
        await app.shutdown()


async def test_no_demo_outside_the_sandbox(db: str, monkeypatch: pytest.MonkeyPatch, aiohttp_server) -> None:
    emulator = BotApiEmulator()
    server = await aiohttp_server(emulator.make_app())
    # A real bot (a token) on the very same bundled candles: no demo.
    real_bot = sandbox_settings(db, monkeypatch, TELEGRAM_BOT_TOKEN="123456:TEST-TOKEN",
                                TELEGRAM_API_URL=str(server.make_url("")), TELEGRAM_ALLOWED_USERS="4242",
                                MARKET_DATA=f"replay:{BUNDLED_CANDLES}")
    assert not is_demo(real_bot)
    app = await build_application(real_bot)
    await app.start()
    try:
        assert await WatchlistEntry.all().count() == 0
    finally:
        await app.shutdown()
    assert not is_demo(sandbox_settings(db, monkeypatch, MARKET_DATA="exchange"))
    assert not is_demo(sandbox_settings(db, monkeypatch, MARKET_DATA="replay:tests/data/candles"))


@pytest.mark.parametrize(("replay_seconds", "period"), [("5", 10), ("1", 5), ("0.5", 5), ("7", 15), ("60", 60)])
def test_the_demo_jobs_follow_the_replay(replay_seconds: str, period: int) -> None:
    from decimal import Decimal

    assert demo_job_seconds(Decimal(replay_seconds)) == period
