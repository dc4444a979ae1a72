"""History: the first sync stores everything once; later cycles read only the window since the cursor."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from bot.db.models import OrderRecord, PortfolioSnapshot, SyncCursor
from bot.domain.events import OrderFilled
from bot.services.backfill import HistoryBackfill
from tests.services.sim_exchange import SimulatedExchange, simulated_exchange
from tests.services.sync_harness import build

pytestmark = pytest.mark.sync
D = Decimal
DAY = 86_400 * 10**9


@contextlib.asynccontextmanager
async def seeded(count: int, days: int) -> AsyncIterator[SimulatedExchange]:
    """An account on the simulator with `count` final orders spread over the last `days` days."""
    async with simulated_exchange({"USDT": D(1000), "BTC": D(1)}, price=D(100000)) as exchange:
        now = time.time_ns()
        exchange.seed_history(count, symbol="BTC_USDT", start_ns=now - days * DAY + DAY // 2,
                              end_ns=now - 60 * 10**9)
        yield exchange


async def test_ten_thousand_orders_stored_once_and_later_cycles_stay_bounded(db: str) -> None:
    async with seeded(10_000, days=180) as exchange:
        h = build(exchange, backfill_days=181)
        first = await h.sync.run_cycle()
        assert first.first_sync and first.backfill_done
        assert await OrderRecord.all().count() == 10_000
        assert not h.of(OrderFilled)                           # old history is stored silently
        for _ in range(3):
            exchange.calls.clear()
            report = await h.sync.run_cycle()
            assert report.history_calls <= 2
            assert exchange.calls.count("order_history") <= 2
            assert len(exchange.calls) <= 6                   # open orders, history, balances, tickers
        assert await OrderRecord.all().count() == 10_000
        assert await PortfolioSnapshot.all().count() == 4
        snapshot = await PortfolioSnapshot.all().order_by("-id").first()
        assert snapshot is not None and snapshot.total_usd == D(101000)


async def test_backfill_is_interruptible_and_resumes_where_it_stopped(db: str) -> None:
    async with seeded(500, days=10) as exchange:
        h = build(exchange, backfill_days=10)
        await h.sync._ensure_watching(__import__("bot.services.sync", fromlist=["SyncReport"]).SyncReport())
        backfill = HistoryBackfill(h.sync, days=10)

        def stop_after_three(progress):  # type: ignore[no-untyped-def]
            if progress.windows_done == 3:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            await backfill.run(on_window=stop_after_three)
        partial = await OrderRecord.all().count()
        assert 0 < partial < 500
        calls_before = exchange.calls.count("order_history")
        progress = await HistoryBackfill(h.sync, days=10).run()
        assert progress.done and progress.windows_done == progress.windows_total == 10
        assert await OrderRecord.all().count() == 500
        assert exchange.calls.count("order_history") - calls_before == 7    # only the 7 windows not done yet
        again = await HistoryBackfill(h.sync, days=10).run()
        assert again.done and exchange.calls.count("order_history") - calls_before == 7
        cursor = await SyncCursor.get(name="live:main:backfill")
        assert cursor.data["done"] is True


async def test_backfill_budget_spreads_the_walk_over_cycles(db: str) -> None:
    async with seeded(300, days=6) as exchange:
        h = build(exchange, backfill_days=6, backfill_calls_per_cycle=2)
        first = await h.sync.run_cycle()
        assert not first.backfill_done
        for _ in range(4):
            report = await h.sync.run_cycle()
            assert report.history_calls <= 4
        assert report.backfill_done
        assert await OrderRecord.all().count() == 300
