"""Telegram-side benchmarks, in parts, each sent through the project's Bot API emulator.

    .venv/bin/python bench/telegram.py [--parts notifier,...] [--events 500] [--users 3]

A part is an async function registered with `@part("name")`: it receives the parsed arguments and
returns the lines it prints. Parts run one after the other, each on its own fresh SQLite database
(a temp dir) and emulator; add a part by writing one more decorated function (its options go in
`add_arguments`).

- signals: /signals with 300 watched coins (each with a day of stored decisions, reasons and
  indicators; every tenth Trade=YES with a refused automatic buy): the command and its buttons
  (filters, pages, refresh) through the real dispatcher. "handler" is the dispatcher's time for one
  update (middlewares, queries, rendering, the send to the emulator); "round trip" adds getUpdates.
  Goal: handler p95 <= 50 ms.
- analyze: the chart's drawing alone (no cache), then whole /analyze commands with the caches
  emptied (candles, pandas-ta, drawing, both sends) and on the same candle (cached). Goal: chart
  render <= 300 ms.
- orders: /orders over 500 open orders in 200 OCO groups (400 legs, 100 orders outside groups) and
  20 unprotected positions, through the real dispatcher (allow-list, language, router, services,
  the database, HTML rendering) and sent to the emulator: the handler's time, p50 / p95 (goal p95 <=
  50 ms), for the command, the next-page button (an edit in place) and the refresh button.
- notifier: a burst of events (fills, protections, groups closed, signals, automatic orders) for
  several users drains through the notifier's queue while the emulator enforces Telegram's flood
  limits (1 message/s per chat, 30/s in all) and injects 429 + retry_after on a share of sends.
  Checks: nothing lost, each chat's messages in order, no 429 caused by the bot itself.
- burst: 50 allowed users send 20 commands each at once (/start /help /orders /signals /watchlist
  /alerts /portfolio /settings, an unknown one; some users Spanish) to the whole application polling
  the emulator (crypto.com simulator behind the live adapter, SQLite): first with Telegram's flood
  limits enforced (the bot paces its answers: 1 a second in a chat, 28 a second in all), then with
  none (the bot unpaced: its own capacity). Total time, answers/s, latency from the update's arrival
  at the emulator to its answer's send (p50/p95/p99, and p95 per command), answers missing or beyond
  the limits.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.utils.i18n import I18n
from aiohttp import web

from bot.compose import build_services
from bot.db.config import close_db, init_db
from bot.db.models import AutoOrderDecision, IndicatorSnapshot, NotificationOutbox, SignalRecord, User, WatchlistEntry
from bot.devtools.telegram_harness import emulated_bot
from bot.domain.events import (
    AutoOrderRefused,
    Event,
    OcoLegDone,
    OrderFilled,
    ProtectionPlaced,
    SignalChanged,
)
from bot.domain.order_rules import Refusal
from bot.domain.orders import Side
from bot.domain.strategy import StrategyParams, TrackedState, decide
from bot.exchange.marketdata import ReplayMarketData
from bot.exchange.paper import BUNDLED, build_paper_exchange
from bot.sandbox.emulator import BotApiEmulator, FloodLimits
from bot.services.analysis_indicators import compute_frame
from bot.services.charts import ChartInput, ChartLevel, render_png
from bot.services.events import EventBus
from bot.settings import load_settings
from bot.telegram.delivery import DeliveryQueue
from bot.telegram.notifier import Notifier
from bot.telegram.setup import LOCALES, build_bot, build_dispatcher

Part = Callable[[argparse.Namespace], Awaitable[list[str]]]
PARTS: dict[str, Part] = {}
D = Decimal


def part(name: str) -> Callable[[Part], Part]:
    def register(function: Part) -> Part:
        PARTS[name] = function
        return function
    return register


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated: " + ", ".join(PARTS))
    # signals, analyze
    parser.add_argument("--coins", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=60, help="updates measured per path (/signals, /orders)")
    parser.add_argument("--charts", type=int, default=15, help="charts drawn, /analyze commands sent")
    # notifier
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--users", type=int, default=3)
    parser.add_argument("--retry-after-share", type=float, default=0.05,
                        help="share of sendMessage calls answered 429 retry_after=1 (seeded)")
    parser.add_argument("--seed", type=int, default=7)
    # orders
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--loose", type=int, default=100, help="open orders outside any OCO group")
    # burst
    parser.add_argument("--burst-users", type=int, default=50)
    parser.add_argument("--burst-commands", type=int, default=20, help="commands each user sends at once")


async def on_fresh_database(run: Callable[[], Awaitable[list[str]]]) -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        await init_db(f"sqlite://{folder}/bench.sqlite3")
        try:
            return await run()
        finally:
            await close_db()


# --- orders -------------------------------------------------------------------------------------

ORDERS_USER = 4242


@part("orders")
async def orders_part(args: argparse.Namespace) -> list[str]:
    return await on_fresh_database(lambda: _orders(args))


async def _seed_account(mode: str, groups: int, loose: int) -> None:
    """Open orders as the sync would have mirrored them: `groups` active OCO groups with both legs open
    over the simulator's markets, `loose` limit buys outside groups, and coins no order covers."""
    from datetime import UTC, datetime

    from bot.db.models import BalanceRecord, OcoGroupRecord, OrderRecord, PortfolioSnapshot
    from bot.domain.oco import leg_client_oid

    markets = {"BTC_USDT": D(100000), "ETH_USDT": D(3000), "CRO_USDT": D("0.1")}
    now = time.time_ns()
    rows, group_rows = [], []
    for n in range(groups):
        symbol, price = list(markets.items())[n % len(markets)]
        group_id = f"g-bench-{n:04d}"
        group_rows.append(OcoGroupRecord(id=group_id, mode=mode, symbol=symbol, state="active",
                                         quantity=D("0.01"), entry_price=price, stop_loss_price=price * D("0.97"),
                                         take_profit_price=price * D("1.03"), native_list_id=f"L{n}",
                                         stop_loss_client_oid=leg_client_oid(group_id, "stop_loss"),
                                         take_profit_client_oid=leg_client_oid(group_id, "take_profit")))
        for role, kind, level in (("stop_loss", "STOP_LOSS", D("0.97")), ("take_profit", "LIMIT", D("1.03"))):
            rows.append(OrderRecord(mode=mode, exchange_order_id=f"{len(rows) + 1:019d}",
                                    client_oid=leg_client_oid(group_id, role), symbol=symbol, side="SELL",
                                    order_type=kind, status="ACTIVE", role=role, quantity=D("0.01"),
                                    price=price * level if kind == "LIMIT" else None,
                                    trigger_price=price * level if kind != "LIMIT" else None,
                                    oco_group_id=group_id, create_time_ns=now - len(rows), watched=True))
    for n in range(loose):
        symbol, price = list(markets.items())[n % len(markets)]
        rows.append(OrderRecord(mode=mode, exchange_order_id=f"{len(rows) + 1:019d}", client_oid=f"hand-{n}",
                                symbol=symbol, side="BUY", order_type="LIMIT", status="ACTIVE", role="manual",
                                quantity=D("0.01"), price=price * D("0.8"), create_time_ns=now - len(rows),
                                watched=True))
    await OcoGroupRecord.bulk_create(group_rows, batch_size=500)
    await OrderRecord.bulk_create(rows, batch_size=500)
    held = {"BTC": D(3), "ETH": D(20), "CRO": D(50000), "USDT": D(100000),
            **{f"COIN{n}": D(n + 1) for n in range(17)}}
    await BalanceRecord.bulk_create([BalanceRecord(mode=mode, asset=a, total=q, free=q, locked=D(0))
                                     for a, q in held.items()])
    await PortfolioSnapshot.create(mode=mode, taken_at=datetime.now(UTC), total_usd=D(1_000_000), unpriced_assets=[],
                                   positions=[{"asset": a, "quantity": str(q), "price": "1", "usd_value": str(q)}
                                              for a, q in held.items()])


async def _orders(args: argparse.Namespace) -> list[str]:
    from aiogram.fsm.storage.memory import MemoryStorage
    from aiogram.types import Update

    from bench.exchange_under_test import controlled_exchange
    from bot.compose import build_services
    from bot.settings import Settings
    from bot.telegram.setup import build_dispatcher

    settings = Settings(TELEGRAM_ALLOWED_USERS=(ORDERS_USER,), DEFAULT_LANGUAGE="en")
    emulator = BotApiEmulator()
    async with controlled_exchange(native_oco=True, websocket=False) as (exchange, _controls, description), \
            emulated_bot(emulator) as bot:
        await _seed_account(exchange.mode, args.groups, args.loose)
        services = build_services(settings, exchange, EventBus())
        dispatcher = build_dispatcher(settings, services=services.handler_dependencies(), storage=MemoryStorage())
        ids = itertools.count(1)
        user = {"id": ORDERS_USER, "is_bot": False, "first_name": "Bench", "language_code": "en"}
        chat = {"id": ORDERS_USER, "type": "private"}

        cpu: dict[str, list[float]] = {}

        async def timed(payload: dict[str, Any], name: str = "") -> float:
            update = Update.model_validate({"update_id": next(ids), **payload}, context={"bot": bot})
            started, started_cpu = time.perf_counter(), time.process_time()
            await dispatcher.feed_update(bot, update)
            # CPU time of the whole process (bot, emulator, simulator): what the machine's other load
            # cannot inflate, unlike the wall time on a shared machine.
            cpu.setdefault(name, []).append(time.process_time() - started_cpu)
            return time.perf_counter() - started

        def command() -> dict[str, Any]:
            return {"message": {"message_id": next(ids), "date": int(time.time()), "chat": chat, "from": user,
                                "text": "/orders", "entities": [{"type": "bot_command", "offset": 0, "length": 7}]}}

        def press(message: dict[str, Any], data: str) -> dict[str, Any]:
            return {"callback_query": {"id": f"q{next(ids)}", "from": user, "chat_instance": "1", "data": data,
                                       "message": {k: v for k, v in message.items() if k != "from"}}}

        await timed(command())                                # warm up: imports, the first price read, caches
        listing = emulator.bot_messages(ORDERS_USER)[-1]
        results: dict[str, list[float]] = {"/orders": [], "next page (edit)": [], "refresh (edit, new prices)": []}
        for _ in range(args.rounds):
            results["/orders"].append(await timed(command(), "/orders"))
            results["next page (edit)"].append(await timed(press(listing, "ordp:page:1"), "next page (edit)"))
            results["refresh (edit, new prices)"].append(await timed(press(listing, "ordp:refresh:0"),
                                                                     "refresh (edit, new prices)"))
        sent = emulator.bot_messages(ORDERS_USER)[-1]
        text = sent["text"]
    lines = [f"orders: {args.groups} OCO groups ({2 * args.groups} legs) + {args.loose} orders outside groups = "
             f"{2 * args.groups + args.loose} open orders, 20 unprotected positions; {description}",
             f"  a page: {len(text):,} characters, {sum(len(r) for r in sent['reply_markup']['inline_keyboard'])} "
             f"buttons; handler time over {args.rounds} runs each (dispatcher in, message out through the emulator):"]
    for name, times in results.items():
        (p50, p95), (cpu50, cpu95) = _p50_p95(times), _p50_p95(cpu[name])
        lines.append(f"  {name:28} wall p50 {p50 * 1000:5.1f} ms  p95 {p95 * 1000:5.1f} ms (goal p95 <= 50 ms);  "
                     f"CPU p50 {cpu50 * 1000:5.1f} ms  p95 {cpu95 * 1000:5.1f} ms")
    return lines


def _p50_p95(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return ordered[len(ordered) // 2], ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]


# --- notifier -----------------------------------------------------------------------------------

def sample_events(count: int) -> list[Event]:
    """What a busy hour publishes, cycling through the layouts people read most."""
    buy = decide({"rsi": D("27.5"), "ema50": D("96000"), "ema200": D("90000"), "volume_ratio": D("1.2")},
                 D("95000"), TrackedState(), StrategyParams())
    refusal = Refusal.of("max_open_per_symbol", count=3, symbol="BTC_USDT", limit=3)
    makers: list[Callable[[int], Event]] = [
        lambda n: OrderFilled(order_id=str(n), client_oid=None, symbol="ETH_USDT", side=Side.BUY,
                              quantity=D("0.5"), price=D(3000) + n, partial=False, role="manual"),
        lambda n: ProtectionPlaced(group_id=f"g-{n}", symbol="ETH_USDT", quantity=D("0.5"), entry_price=D(3000) + n,
                                   stop_loss_price=D(2910), take_profit_price=D(3090), native_oco=True),
        lambda n: OcoLegDone(group_id=f"g-{n}", symbol="BTC_USDT", leg="take_profit", quantity=D("0.01"),
                             entry_price=D(100000), exit_price=D(103000), pnl=D("24.925") + n, sibling_canceled=True),
        lambda n: SignalChanged(symbol="SOL_USDT", decision="BUY", price=D(150) + n, reasons=buy.reasons,
                                explained=buy.explained, indicators=(("rsi", "27.5"), ("ema50", "160"))),
        lambda n: AutoOrderRefused(symbol="BTC_USDT", rule=refusal.rule, detail=refusal.detail, args=refusal.args,
                                   price=D(95000) + n, explained=buy.explained),
    ]
    return [makers[n % len(makers)](n) for n in range(count)]


@part("notifier")
async def notifier_part(args: argparse.Namespace) -> list[str]:
    return await on_fresh_database(lambda: _drain(args))


async def _drain(args: argparse.Namespace) -> list[str]:
    users = [1000 + n for n in range(args.users)]
    for n, user in enumerate(users):
        await User.create(telegram_id=user, language="es" if n % 2 == 0 else "en")
    rng = random.Random(args.seed)
    numbers = itertools.count()

    def injected_retry_after(method: str, params: dict[str, Any]) -> Any:
        next(numbers)
        if method == "sendMessage" and rng.random() < args.retry_after_share:
            return 429, "Too Many Requests: retry after 1", 1
        return None

    emulator = BotApiEmulator(flood_limits=FloodLimits(), fault_plan=injected_retry_after)   # Telegram's limits
    events = sample_events(args.events)
    i18n = I18n(path=LOCALES, default_locale="es", domain="messages")
    bus = EventBus()
    async with emulated_bot(emulator) as bot:
        notifier = Notifier(bot, bus, i18n, users, "es", queue=DeliveryQueue(bot))
        await notifier.start()
        started = time.perf_counter()
        for event in events:
            await bus.publish(event)
        stored = time.perf_counter() - started
        drained = await notifier.queue.drained(timeout=3600)
        elapsed = time.perf_counter() - started
        await notifier.close()
    stats = notifier.queue.stats
    rows = await NotificationOutbox.all().order_by("id")
    unsent = sum(1 for r in rows if r.sent_at is None)
    sent = emulator.calls_of("sendMessage")
    lost, out_of_order = 0, 0
    for user in users:
        stream = "\n\n".join(c.params["text"] for c in sent if c.params["chat_id"] == str(user))
        position = 0
        for row in (r for r in rows if r.payload["chat_id"] == user):
            found = stream.find(row.payload["text"], position)
            if found < 0:
                if stream.find(row.payload["text"]) < 0:
                    lost += 1
                else:
                    out_of_order += 1
                continue
            position = found + len(row.payload["text"])
    per_chat = max(_peak([c.at for c in sent if c.params["chat_id"] == str(u)]) for u in users)
    overall = _peak([c.at for c in sent])
    injected = len(emulator.calls_of("sendMessage", outcome="injected"))
    return [
        f"notifier: {len(events)} events x {len(users)} users = {len(rows)} messages, "
        f"{args.retry_after_share:.0%} of sends answered 429 retry_after=1",
        f"  stored in the outbox and queued: {stored:.2f} s ({stored / len(events) * 1000:.1f} ms an event)",
        f"  drained: {'yes' if drained else 'NO'} in {elapsed:.1f} s; {len(sent)} sendMessage calls carried "
        f"{stats.parts} messages ({stats.parts / max(1, len(sent)):.1f} a send, merged under 4,096 characters)",
        f"  429 received: {stats.retry_after} (injected {injected}; caused by the bot's own pace: "
        f"{len(emulator.flooded())}); paused {stats.paused_seconds:.0f} s in all",
        f"  peak sends in any 1 s: {per_chat} in one chat (limit 1), {overall} in all (limit 30)",
        f"  lost: {lost}; out of order: {out_of_order}; outbox rows still unsent: {unsent}; dropped: {stats.dropped}",
    ]


def _peak(times: list[float]) -> int:
    """The most sends that fall in any window of one second (minus the emulator's jitter slack)."""
    ordered = sorted(times)
    best = 0
    for i, first in enumerate(ordered):
        best = max(best, sum(1 for t in ordered[i:] if t - first < 1.0 - FloodLimits().slack))
    return best


# --- /signals and /analyze ----------------------------------------------------------------------

VIEWER = 4242
GOAL_HANDLER_MS = 50.0
GOAL_CHART_MS = 300.0


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def _timing(name: str, seconds: list[float], goal_ms: float | None = None) -> str:
    ms = [s * 1000 for s in seconds]
    p95 = _percentile(ms, 0.95)
    verdict = "" if goal_ms is None else f"  ({'within' if p95 <= goal_ms else 'OVER'} the {goal_ms:.0f} ms goal)"
    return (f"  {name:<42} n={len(ms):>3}  p50 {statistics.median(ms):7.1f} ms  p95 {p95:7.1f} ms  "
            f"max {max(ms):7.1f} ms{verdict}")


async def _seed_signals(coins: int) -> None:
    now = datetime.now(UTC)
    reasons = ["RSI 28.53 < 30", "price above EMA200 (95000.12)"]
    indicators = {"rsi": "28.53", "ema50": "98000.1", "ema200": "95000.12", "macd_hist": "-12.5",
                  "volume_ratio": "1.2", "close": "97000"}
    await WatchlistEntry.bulk_create([WatchlistEntry(symbol=f"C{i:03d}_USDT", alert_enabled=True,
                                                     trade_enabled=i % 10 == 0) for i in range(coins)])
    decisions = ("BUY", "WAIT", "WAIT", "SELL")
    # 48 decisions a coin: the newest-per-coin query has older rows to skip past, the seed stays quick.
    await SignalRecord.bulk_create([
        SignalRecord(symbol=f"C{i:03d}_USDT", decision=decisions[(i + n) % 4], price=D(97000 + n), reasons=reasons,
                     indicators=indicators, decided_at=now) for n in range(48) for i in range(coins)], batch_size=1000)
    await IndicatorSnapshot.bulk_create([IndicatorSnapshot(symbol=f"C{i:03d}_USDT", timeframe="1h", values=indicators,
                                                           computed_at=now) for i in range(coins)], batch_size=1000)
    await AutoOrderDecision.bulk_create([
        AutoOrderDecision(mode="paper", symbol=f"C{i:03d}_USDT", allowed=False, rule="max_open_per_symbol",
                          detail=f"3 open buy orders on C{i:03d}_USDT (limit 3)", decided_at=now)
        for i in range(0, coins, 10)])


class _Timer:
    """An outer middleware on every update: the dispatcher's own time for it."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, handler: Callable[[Any, dict[str, Any]], Awaitable[Any]], event: Any,
                       data: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            return await handler(event, data)
        finally:
            self.seconds.append(time.perf_counter() - started)


class _ViewsBot:
    """The whole dispatcher (the composition root's services, the paper exchange on the bundled
    candles) polling an emulator; `ask` sends an update and waits for what it causes."""

    def __init__(self) -> None:
        self.emulator = BotApiEmulator()
        self.outputs: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.emulator.listeners.append(lambda kind, message: self.outputs.put_nowait(message))
        self.timer = _Timer()

    async def __aenter__(self) -> _ViewsBot:
        os.environ.update({"TELEGRAM_BOT_TOKEN": "123456:BENCH", "TELEGRAM_ALLOWED_USERS": str(VIEWER),
                           "DEFAULT_LANGUAGE": "en"})
        self.runner = web.AppRunner(self.emulator.make_app(), access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        settings = load_settings()
        self.exchange = build_paper_exchange(settings, market_data=ReplayMarketData(BUNDLED, warmup=500),
                                             store=None, pace_seconds=0)
        await self.exchange.start()
        self.services = build_services(settings, self.exchange, EventBus())
        self.bot = build_bot(settings, api_url=f"http://127.0.0.1:{self.runner.addresses[0][1]}")
        self.dispatcher = build_dispatcher(settings, services=self.services.handler_dependencies(),
                                           storage=MemoryStorage())
        self.dispatcher.update.outer_middleware(self.timer)
        self.polling = asyncio.create_task(self.dispatcher.start_polling(
            self.bot, polling_timeout=1, handle_signals=False, close_bot_session=False))
        await self.emulator.wait_for_call("getUpdates")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.dispatcher.stop_polling()
        await asyncio.wait_for(self.polling, 10)
        await self.bot.session.close()
        await self.exchange.close()
        await self.runner.cleanup()

    async def ask(self, push: Callable[[], object], outputs: int = 1) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        push()
        message: dict[str, Any] = {}
        for _ in range(outputs):
            message = await asyncio.wait_for(self.outputs.get(), 30)
        return time.perf_counter() - started, message

    async def send(self, text: str, outputs: int = 1) -> tuple[float, dict[str, Any]]:
        return await self.ask(lambda: self.emulator.push_message(VIEWER, text, language_code="en"), outputs)

    async def press(self, message_id: int, data: str) -> tuple[float, dict[str, Any]]:
        return await self.ask(lambda: self.emulator.push_callback(VIEWER, message_id, data, language_code="en"))


@part("signals")
async def signals_part(args: argparse.Namespace) -> list[str]:
    return await on_fresh_database(lambda: _signals(args))


async def _signals(args: argparse.Namespace) -> list[str]:
    await _seed_signals(args.coins)
    async with _ViewsBot() as views:
        _, shown = await views.send("/signals")
        views.timer.seconds.clear()
        buttons = ["sg:all:1", "sg:buy:0", "sg:trade:0", "sg:all:20", "sg:all:49", "sg:all:0"]
        round_trips, longest = [], 0
        for n in range(args.rounds):
            if n % 4 == 0:
                took, shown = await views.send("/signals")
                out = shown
            else:
                took, out = await views.press(int(shown["message_id"]), buttons[n % len(buttons)])
            round_trips.append(took)
            longest = max(longest, len(out.get("text", "")))
        handler = list(views.timer.seconds)
    return [f"signals: /signals and its buttons, {args.coins} watched coins (48 stored decisions each), SQLite",
            _timing("handler (dispatcher, incl. the send)", handler, GOAL_HANDLER_MS),
            _timing("round trip through the emulator", round_trips),
            f"  longest page: {longest} characters (Telegram's limit 4,096)"]


@part("analyze")
async def analyze_part(args: argparse.Namespace) -> list[str]:
    return await on_fresh_database(lambda: _analyze(args))


async def _analyze(args: argparse.Namespace) -> list[str]:
    async with _ViewsBot() as views:
        candles = await views.exchange.candles("BTC_USDT", "1h", limit=500)
        frame = compute_frame(candles)
        last = float(candles[-1].close)
        levels = (ChartLevel("stop_loss", last * 0.97, "SL"), ChartLevel("take_profit", last * 1.03, "TP"),
                  ChartLevel("buy", last * 0.99, "BUY"))
        render_png(ChartInput("warm-up", frame.series, levels))
        drawing = []
        for _ in range(args.charts):
            started = time.perf_counter()
            render_png(ChartInput("BTC_USDT 1h", frame.series, levels))
            drawing.append(time.perf_counter() - started)
        analysis = views.services.analysis_service
        empty, cached = [], []
        for n in range(args.charts):
            analysis._frames.clear()
            analysis._charts.clear()
            symbol = ("BTC_USDT", "ETH_USDT", "SOL_USDT")[n % 3]
            empty.append((await views.send(f"/analyze {symbol}", outputs=2))[0])
            cached.append((await views.send(f"/analyze {symbol}", outputs=2))[0])
        size = len(views.emulator.calls_of("sendPhoto")[-1].files.get("photo", b""))
    return ["analyze: the chart (120 candles, EMA/Bollinger, RSI and MACD panels, 3 order lines), 1000x700 PNG",
            _timing("render (matplotlib Agg, no cache)", drawing, GOAL_CHART_MS),
            _timing("/analyze round trip, caches empty", empty),
            _timing("/analyze round trip, same candle (cached)", cached),
            f"  PNG size: {size / 1024:.0f} kB"]


# --- burst ---------------------------------------------------------------------------------------

class _Env:
    """pytest's monkeypatch.setenv, for the test harness outside pytest: undone on exit."""

    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}

    def setenv(self, name: str, value: str) -> None:
        self._saved.setdefault(name, os.environ.get(name))
        os.environ[name] = value

    def undo(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@part("burst")
async def burst_part(args: argparse.Namespace) -> list[str]:
    users, per_user = args.burst_users, args.burst_commands
    lines = [f"burst: {users} allowed users x {per_user} commands at once = {users * per_user} updates, the whole "
             f"app polling the emulator (crypto.com simulator via the live adapter, SQLite)"]
    for title, limits in (("Telegram's flood limits enforced, the bot paced (1/s a chat, 28/s in all)",
                           FloodLimits()), ("no flood limits, the bot unpaced (its own capacity)", None)):
        lines.append(f"  {title}:")
        lines += await on_fresh_database_url(lambda url, limits=limits: _burst(url, users, per_user, limits))
    return lines


async def on_fresh_database_url(run: Callable[[str], Awaitable[list[str]]]) -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite://{folder}/bench.sqlite3"
        await init_db(url)
        try:
            return await run(url)
        finally:
            await close_db()


async def _burst(url: str, count: int, per_user: int, limits: FloodLimits | None) -> list[str]:
    from aiohttp.test_utils import TestServer

    from tests.telegram.burst import (
        COMMANDS,
        AnswerCounter,
        allowed_users_setting,
        burst_users,
        match,
        percentile,
        push_burst,
        save_choices,
    )
    from tests.telegram.harness import OWNER, running_app

    servers: list[TestServer] = []

    async def serve(app: web.Application) -> TestServer:
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return server

    users = burst_users(count)
    env = _Env()
    emulator = BotApiEmulator(flood_limits=limits)
    try:
        async with running_app(url, serve, env, emulator=emulator,
                               env={"TELEGRAM_ALLOWED_USERS": allowed_users_setting(users, OWNER)}) as world:
            await save_choices(users)
            counter = AnswerCounter(world.emulator)
            started, started_cpu = time.perf_counter(), time.process_time()
            sent = push_burst(world.emulator, users, per_user)
            answered = await counter.wait_for(len(sent), timeout=600)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
            await counter.settled(quiet=0.5)
    finally:
        for server in servers:
            await server.close()
        env.undo()
    seconds = match(sent, counter.answers)
    everything = [s for values in seconds.values() for s in values]
    matched = len(everything)

    def ms(values: list[float], share: float) -> str:
        return f"{percentile(values, share) * 1000:,.0f} ms"

    per_kind = "  ".join(f"{c} {ms(seconds[c], 0.95)}" for c in COMMANDS if c in seconds)
    return [f"    all answered: {'yes' if answered else 'NO'} ({len(counter.answers)} messages, {matched} matched to "
            f"their command); sends beyond the limits: {len(world.emulator.flooded())}",
            f"    total {elapsed:.1f} s (CPU {cpu:.1f} s, the whole process), {len(counter.answers) / elapsed:.1f} "
            f"answers/s",
            f"    latency (update at the emulator -> answer sent): p50 {ms(everything, 0.5)}  p95 "
            f"{ms(everything, 0.95)}  p99 {ms(everything, 0.99)}  max {ms(everything, 1.0)}",
            f"    p95 by command: {per_kind}"]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_arguments(parser)
    args = parser.parse_args()
    for name in [p.strip() for p in args.parts.split(",") if p.strip()]:
        if name not in PARTS:
            parser.error(f"unknown part {name!r}; known: {', '.join(PARTS)}")
        for line in await PARTS[name](args):
            print(line, flush=True)


if __name__ == "__main__":
    asyncio.run(main())
