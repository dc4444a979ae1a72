"""One market-update cycle and one signal cycle for 10, 100 and 300 coins, 500 candles each.

Each size gets a fresh SQLite database in a temp dir, a watchlist of that many coins (Alert=YES)
and the paper exchange replaying real 1h candle files (the 2024 Binance files, reused under new
names when there are more coins than files). A first cycle warms up (it creates the per-coin
strategy state); the next three are measured. "bot-side" is the cycle's time minus the time
spent waiting for the exchange: what our code costs. Goal: 300 coins in under 3 s (10 % of the
30 s signal period) on two cores.

    .venv/bin/python bench/signals.py [--sizes 10,100,300] [--cycles 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.sync_scale import Timed
from bot.db.config import close_db, init_db
from bot.db.models import IndicatorSnapshot, SignalRecord, WatchlistEntry
from bot.domain.strategy import StrategyParams
from bot.exchange.marketdata import ReplayMarketData
from bot.exchange.paper import build_paper_exchange
from bot.services.events import EventBus
from bot.services.signals import SignalService
from bot.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "candles"
CANDLES = SHARED if SHARED.is_dir() else ROOT / "bot" / "data" / "candles"
HISTORY = 500
BUDGET_S = 3.0


def write_coins(directory: Path, count: int) -> None:
    """`count` candle files of HISTORY + 30 rows, cut from the real 2024 1h files (same start date,
    so the replay clock shows every coin HISTORY candles deep)."""
    sources = sorted(p for p in CANDLES.glob("*_USDT-1h.csv")
                     if p.read_text().splitlines()[1].startswith("1704067200000"))
    for i in range(count):
        lines = sources[i % len(sources)].read_text().splitlines()[:HISTORY + 31]
        (directory / f"C{i:03d}_USDT-1h.csv").write_text("\n".join(lines) + "\n")


async def measure(count: int, cycles: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "candles"
        data.mkdir()
        write_coins(data, count)
        await init_db(f"sqlite://{tmp}/bench.sqlite3")
        try:
            feed = ReplayMarketData(data, warmup=HISTORY + 20)
            paper = build_paper_exchange(load_settings(), market_data=feed, pace_seconds=0, store=None)
            await paper.start()
            exchange = Timed(paper)
            await WatchlistEntry.bulk_create([WatchlistEntry(symbol=f"C{i:03d}_USDT", alert_enabled=True)
                                              for i in range(count)])
            service = SignalService(exchange, EventBus(), StrategyParams())  # type: ignore[arg-type]
            await service.update_market()
            await service.monitor()
            market, signal, wait = [], [], []
            for _ in range(cycles):
                exchange.seconds = 0.0
                started = time.perf_counter()
                outcome = await service.update_market()
                market.append(time.perf_counter() - started)
                started = time.perf_counter()
                verdicts = await service.monitor()
                signal.append(time.perf_counter() - started)
                wait.append(exchange.seconds)
            fresh = sum(1 for reason in outcome.values() if reason is None)
            assert fresh == count and len(verdicts) == count, (fresh, len(verdicts))
            assert await IndicatorSnapshot.all().count() == count * (cycles + 1)
            assert await SignalRecord.all().count() == count * (cycles + 1)
            await paper.close()
            total = [m + s for m, s in zip(market, signal, strict=True)]
            return {"coins": count, "market_s": statistics.median(market), "signal_s": statistics.median(signal),
                    "total_s": statistics.median(total),
                    "own_s": statistics.median(t - w for t, w in zip(total, wait, strict=True))}
        finally:
            await close_db()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100,300")
    parser.add_argument("--cycles", type=int, default=3)
    args = parser.parse_args()
    results = [await measure(int(size), args.cycles) for size in args.sizes.split(",")]
    print(f"cpus: {os.cpu_count()}, candles per coin: {HISTORY}, data: {CANDLES}")
    print(f"{'coins':>6} {'market s':>9} {'signal s':>9} {'both s':>8} {'bot-side s':>11} {'ms/coin':>8} "
          f"{'of 30 s':>8}")
    for r in results:
        print(f"{r['coins']:>6.0f} {r['market_s']:>9.3f} {r['signal_s']:>9.3f} {r['total_s']:>8.3f} "
              f"{r['own_s']:>11.3f} {r['total_s'] / r['coins'] * 1000:>8.2f} {r['total_s'] / 30:>8.1%}")
    base, top = results[0], results[-1]
    print(f"coins x{top['coins'] / base['coins']:.0f}: time x{top['total_s'] / base['total_s']:.1f}; "
          f"{top['coins']:.0f} coins in {top['total_s']:.2f} s "
          f"({'within' if top['total_s'] < BUDGET_S else 'OVER'} the {BUDGET_S:.0f} s goal)")


if __name__ == "__main__":
    asyncio.run(main())
