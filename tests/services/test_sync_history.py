"""History: the first sync stores everything once; later cycles read only the window since the cursor."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from bot.db.models import OrderRecord, PortfolioSnapshot, SyncCursor
from bot.domain.events import OrderFilled
from bot.services.backfill import HistoryBackfill
from tests.services.sim_exchange import SimulatedExchange, simulated_exchange
from tests.services.sync_harness import build, eventually

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
        assert first.first_sync
        assert (await h.sync.run_backfill()).done
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


async def test_backfill_walks_in_turns_beside_the_cycles(db: str) -> None:
    async with seeded(300, days=6) as exchange:
        h = build(exchange, backfill_days=6)
        first = await h.sync.run_cycle()
        assert first.history_calls == 1                    # the recent window only: no back-fill inside
        assert await OrderRecord.all().count() == 0
        progress = await h.sync.run_backfill(max_calls=2)
        assert not progress.done and progress.windows_done == 2
        for _ in range(2):
            report = await h.sync.run_cycle()
            assert report.history_calls == 1
        assert (await h.sync.run_backfill()).done
        assert await OrderRecord.all().count() == 300


async def test_an_ordinary_cycle_never_waits_behind_the_backfill_and_the_walk_stops_at_once(db: str) -> None:
    """At a real pace (0.5 s between history requests here), the back-fill of 30 days takes 15 s
    or more; meanwhile every cycle finishes within one history interval, and cancelling the walk
    (shutdown) returns at once, its progress kept."""
    async with seeded(600, days=30) as exchange:
        h = build(exchange, backfill_days=30, history_min_interval_s=0.5)
        await h.sync.run_cycle()
        walk = asyncio.create_task(h.sync.run_backfill())

        async def walked_two_days() -> bool:
            return (await HistoryBackfill(h.sync, days=30).progress()).windows_done >= 2
        await eventually(walked_two_days)
        durations = []
        for _ in range(3):
            await asyncio.sleep(0.3)
            started = time.perf_counter()
            report = await h.sync.run_cycle()
            durations.append(time.perf_counter() - started)
            assert report.history_calls == 1
        assert max(durations) < 0.5 + 0.5, durations
        assert not walk.done()
        started = time.perf_counter()
        walk.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await walk
        assert time.perf_counter() - started < 0.2
        cursor = await SyncCursor.get(name="live:main:backfill")
        assert cursor.data["done"] is False and cursor.value < cursor.data["upper_ns"]
        progress = await HistoryBackfill(h.sync, days=30).progress()
        assert 0 < progress.windows_done < 30
        assert (await build(exchange, backfill_days=30).sync.run_backfill()).done
        assert await OrderRecord.all().count() == 600


def same_instant_orders(exchange: SimulatedExchange, at_ns: int, per_symbol: dict[str, int], *,
                        first_id: int, tie: int = 1) -> int:
    """Final orders on the simulator created within one instant: `tie` orders share each exact
    nanosecond (all of them when `tie` is large), as an exchange stamping at millisecond precision
    would show them. Returns how many."""
    from bot.domain.orders import OrderStatus, OrderType, Side
    from bot.exchange.engine.order import EngineOrder

    engine = exchange.sim.engine
    orders = []
    for symbol, count in per_symbol.items():
        inst = engine.instruments[symbol]
        for _ in range(count):
            created = at_ns + (len(orders) // tie)
            order_id = str(first_id + len(orders))
            orders.append(EngineOrder(order_id=order_id, client_oid=f"tie-{order_id}", symbol=symbol, side=Side.BUY,
                                      order_type=OrderType.LIMIT, status=OrderStatus.FILLED,
                                      quantity=inst.qty_tick * 10, price=D(100), filled_quantity=inst.qty_tick * 10,
                                      cumulative_value=inst.qty_tick * 1000, avg_price=D(100),
                                      fee_currency=inst.quote, create_time_ns=created, update_time_ns=created))
    engine.add_history(orders)
    return len(orders)


async def test_history_paging_never_skips_orders_sharing_the_boundary_instant(db: str) -> None:
    """Hundreds of orders within one millisecond: 7 to each nanosecond (so every page boundary falls
    inside a tie), and 150 on one exact nanosecond across three coins (more than a page holds)."""
    async with simulated_exchange({"USDT": D(1000)}, price=D(100000)) as exchange:
        h = build(exchange, backfill_days=2)
        await h.sync.run_cycle()
        ms = (time.time_ns() - DAY // 2) // 10**6 * 10**6
        count = same_instant_orders(exchange, ms + 1000, {"BTC_USDT": 430}, first_id=7_000_000_000_000_000_001, tie=7)
        count += same_instant_orders(exchange, ms, {"BTC_USDT": 50, "ETH_USDT": 50, "CRO_USDT": 50},
                                     first_id=8_000_000_000_000_000_001, tie=1000)
        assert (await h.sync.run_backfill()).done
        assert await OrderRecord.all().count() == count == 580
        progress = await HistoryBackfill(h.sync, days=2).progress()
        assert progress.orders_seen == 580                   # each order handed over once
