"""Telegram-side benchmarks, in parts, each sent through the project's Bot API emulator.

    .venv/bin/python bench/telegram.py [--parts notifier,...] [--events 500] [--users 3]

A part is an async function registered with `@part("name")`: it receives the parsed arguments and
returns the lines it prints. Parts run one after the other, each on its own fresh SQLite database
(a temp dir) and emulator; add a part by writing one more decorated function (its options go in
`add_arguments`).

- notifier: a burst of events (fills, protections, groups closed, signals, automatic orders) for
  several users drains through the notifier's queue while the emulator enforces Telegram's flood
  limits (1 message/s per chat, 30/s in all) and injects 429 + retry_after on a share of sends.
  Checks: nothing lost, each chat's messages in order, no 429 caused by the bot itself.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram.utils.i18n import I18n

from bot.db.config import close_db, init_db
from bot.db.models import NotificationOutbox, User
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
from bot.sandbox.emulator import BotApiEmulator, FloodLimits
from bot.services.events import EventBus
from bot.telegram.delivery import DeliveryQueue
from bot.telegram.notifier import Notifier
from bot.telegram.setup import LOCALES

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
    # notifier
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--users", type=int, default=3)
    parser.add_argument("--retry-after-share", type=float, default=0.05,
                        help="share of sendMessage calls answered 429 retry_after=1 (seeded)")
    parser.add_argument("--seed", type=int, default=7)


async def on_fresh_database(run: Callable[[], Awaitable[list[str]]]) -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        await init_db(f"sqlite://{folder}/bench.sqlite3")
        try:
            return await run()
        finally:
            await close_db()


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
