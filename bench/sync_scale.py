"""One sync cycle's exchange calls and wall time as the stored history grows (100 ... 100,000 orders).

For each size: a fresh SQLite database, an exchange seeded with that many final orders over
180 days, a first sync and the back-fill (its own task in the app, run to the end here), then 30
ordinary cycles measured (their median: the machine is shared, single cycles are noisy; a cycle costs
a few ms of the bot's own time, so ten cycles let another process's burst move the median by 2-3x).
"Bot side" is a cycle's wall time less the time spent waiting for the exchange's answers; the fastest
cycle's is shown too, the bot's cost with the least noise from the machine.
Goal: calls constant, bot-side time flat as the history grows.

    .venv/bin/python bench/sync_scale.py [--sizes 100,1000,10000,100000] [--cycles 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.exchange_under_test import seeded_exchange
from bot.db.config import close_db, init_db
from bot.db.models import OrderRecord
from bot.db.repositories import OrderRepository
from bot.services.events import EventBus
from bot.services.protection import ProtectionService
from bot.services.sync import SyncService

DAY = 86_400 * 10**9


class Timed:
    """Passes every call to the exchange and adds up the time spent waiting for it."""

    def __init__(self, inner: object) -> None:
        self._inner = inner
        self.seconds = 0.0
        self.name = inner.name  # type: ignore[attr-defined]
        self.mode = inner.mode  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        attr = getattr(self._inner, name)
        if not asyncio.iscoroutinefunction(attr):
            return attr

        async def call(*args: object, **kwargs: object) -> object:
            started = time.perf_counter()
            try:
                return await attr(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return call


async def measure(size: int, cycles: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        await init_db(f"sqlite://{tmp}/bench.sqlite3")
        try:
            async with seeded_exchange(size) as (raw_exchange, calls):
                exchange = Timed(raw_exchange)
                events = EventBus()
                repo = OrderRepository(exchange.mode)
                sync = SyncService(exchange, events, repo, ProtectionService(exchange, repo, events),
                                   history_min_interval_s=0, backfill_days=181)
                started = time.perf_counter()
                await sync.run_cycle()
                await sync.run_backfill()
                first_s = time.perf_counter() - started
                stored = await OrderRecord.all().count()
                times, own, per_cycle = [], [], []
                for _ in range(cycles):
                    before = Counter(calls())
                    exchange.seconds = 0.0
                    started = time.perf_counter()
                    report = await sync.run_cycle()
                    times.append(time.perf_counter() - started)
                    own.append(times[-1] - exchange.seconds)
                    per_cycle.append((Counter(calls()) - before, report.history_calls))
                counter, history_calls = per_cycle[-1]
                return {"size": size, "stored": stored, "first_s": first_s, "cycle_s": statistics.median(times),
                        "own_s": statistics.median(own), "own_best_s": min(own),
                        "calls": sum(counter.values()), "history_calls": history_calls,
                        "detail": dict(sorted(counter.items()))}
        finally:
            await close_db()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100,1000,10000,100000")
    parser.add_argument("--cycles", type=int, default=30)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = [await measure(size, args.cycles) for size in sizes]
    print(f"{'stored orders':>14} {'first sync s':>13} {'cycle s':>9} {'bot-side s':>11} {'fastest':>8} "
          f"{'calls/cycle':>12} {'history calls':>14}  calls")
    for r in results:
        print(f"{r['stored']:>14,} {r['first_s']:>13.2f} {r['cycle_s']:>9.3f} {r['own_s']:>11.3f} "
              f"{r['own_best_s']:>8.3f} {r['calls']:>12} "
              f"{r['history_calls']:>14}  {r['detail']}")
    base, top = results[0], results[-1]
    growth = float(top["size"]) / float(base["size"])  # type: ignore[arg-type]
    print(f"history x{growth:,.0f}: cycle time x{float(top['cycle_s']) / float(base['cycle_s']):.2f} "  # type: ignore[arg-type]
          f"(bot side x{float(top['own_s']) / float(base['own_s']):.2f}), "  # type: ignore[arg-type]
          f"calls {base['calls']} -> {top['calls']}")


if __name__ == "__main__":
    asyncio.run(main())
