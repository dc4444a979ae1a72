"""A 10,000-order account, synced from scratch and protected while a seeded 20 % of every request
meets a fault (5xx, dropped answers, 42901, latency), the sync cycles and the back-fill task running
side by side under the deployment's job lock (Redis in the second pass, else the database lease),
as the app runs them. Cycling until it converges: every exchange order stored exactly once, every
filled buy protected by exactly one order list, no order placed twice, no coin sold twice.

Run with -s for the figures; CHAOS_SEED picks another storm. The seed fixes the draws, but the
back-fill and the cycles interleave as they run, so which request meets which fault varies a little
from run to run: the checks hold for any of them."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from bot.db.models import OcoGroupRecord, OrderRecord
from bot.domain.events import ProtectionPlaced
from bot.domain.orders import OrderStatus, OrderType, Side
from bot.exchange.errors import ExchangeError
from bot.jobs.backfill_job import run_backfill_task
from bot.jobs.sync_job import run_sync_cycle
from bot.services.locks import build_job_lock
from tests.services.sim_exchange import SimulatedExchange, simulated_exchange
from tests.services.sync_harness import Harness, build

pytestmark = [pytest.mark.sync, pytest.mark.storage]
D = Decimal
DAY = 86_400 * 10**9
ORDERS = 10_000
PROTECTED_BUYS = 30        # open when the sync starts, filled while it runs: each needs one protection
RESTING = 10               # open throughout: 5 buys below the market, 5 sells above it
HISTORY_DAYS = 180         # the real back-fill span: one history request per day, ~55 orders a day
FAULT_RATE = 0.2
# After these cycles the price falls to fill 10 buys each time (99,200..99,290, then 99,100..99,190,
# then the rest); their stop-losses (3 % below) stay untouched.
WAVES = {3: D(99200), 6: D(99100), 9: D(98500)}
CYCLE_LIMIT = 600          # cycles are cheap; the back-fill beside them sets the pace
CYCLES_AFTER_WALK = 30     # once the history is read, a few cycles finish whatever a fault broke


def by_hand(exchange: SimulatedExchange, n: int, side: Side, price: Decimal) -> str:
    """An order placed on the exchange's own site: not through our API, so no fault touches it."""
    order = exchange.sim.engine.place(symbol="BTC_USDT", side=side, order_type=OrderType.LIMIT,
                                      client_oid=f"site-{n}", quantity=D("0.01"), price=price,
                                      now_ns=exchange.sim.simulator.clock())
    return order.order_id


CREATES = ("private/create-order", "private/advanced/create-order", "private/advanced/create-oco",
           "private/advanced/create-otoco")


def accepted_creates(exchange: SimulatedExchange) -> Counter[str]:
    """Per client_oid, how many create requests the simulator carried out (a dropped answer counts:
    the order was placed all the same)."""
    placed: Counter[str] = Counter()
    for call in exchange.sim.calls:
        if call.method in CREATES and call.code == "0":
            for leg in call.params.get("order_list") or [call.params]:
                placed[str(leg.get("client_oid"))] += 1
    return placed


def exchange_error_names(kind: type[Exception] = ExchangeError) -> set[str]:
    return {kind.__name__}.union(*(exchange_error_names(sub) for sub in kind.__subclasses__()))


def create_requests(exchange: SimulatedExchange) -> int:
    return sum(1 for c in exchange.sim.calls if c.method in CREATES)


async def converged(h: Harness, exchange: SimulatedExchange, entries: list[str]) -> bool:
    """The database mirrors every order on the exchange (status and fill) and every filled buy stands
    protected, with nothing left waiting."""
    books = exchange.orders
    stored = {r["exchange_order_id"]: (r["status"], r["filled_quantity"])
              for r in await OrderRecord.all().values("exchange_order_id", "status", "filled_quantity")}
    if stored != {i: (o.status.value, o.filled_quantity) for i, o in books.items()}:
        return False
    if await OrderRecord.filter(protection_due=True).exists():
        return False
    groups = await OcoGroupRecord.filter(entry_exchange_order_id__in=entries).values_list("state", flat=True)
    return sorted(groups) == ["active"] * len(entries)


async def test_ten_thousand_orders_sync_and_protect_through_a_fault_storm(
        db: str, redis_client: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.jobs.backfill_job")
    started = time.perf_counter()
    async with simulated_exchange({"USDT": D(10_000_000), "BTC": D("0.5")}, price=D(100000)) as exchange:
        # given: 9,960 final orders over 180 days, 10 orders resting, 30 buys about to fill
        now = time.time_ns()
        exchange.seed_history(ORDERS - PROTECTED_BUYS - RESTING, symbol="BTC_USDT",
                              start_ns=now - HISTORY_DAYS * DAY + DAY // 2, end_ns=now - 60 * 10**9)
        for n in range(RESTING // 2):
            by_hand(exchange, n, Side.BUY, D(90000) - n)
            by_hand(exchange, 100 + n, Side.SELL, D(150000) + n)
        entries = [by_hand(exchange, 200 + n, Side.BUY, D(99000) + n * 10) for n in range(PROTECTED_BUYS)]
        assert len(exchange.orders) == ORDERS

        h = build(exchange, backfill_days=HISTORY_DAYS + 1)
        redis = redis_client if os.environ.get("TEST_REDIS_URL") else None
        lock = build_job_lock(redis, "bot")
        exchange.sim.faults.chaos(FAULT_RATE, seed=int(os.environ.get("CHAOS_SEED", "20261205")))

        # when: the back-fill walks beside the cycles; the buys fill in three waves while it runs
        backfill = asyncio.create_task(run_backfill_task(h.sync, lock, calls_per_turn=30, retry_seconds=0.05))
        cycles = failed_cycles = 0
        walked_at: int | None = None
        cycle_errors: Counter[str] = Counter()
        try:
            while True:
                cycles += 1
                if backfill.done() and walked_at is None:
                    walked_at = cycles
                stuck = cycles > CYCLE_LIMIT or (walked_at is not None and cycles - walked_at > CYCLES_AFTER_WALK)
                assert not stuck, (f"not converged in {cycles} cycles (back-fill done at {walked_at}); "
                                   f"cycle errors {cycle_errors}; {await OrderRecord.all().count()} stored of "
                                   f"{len(exchange.orders)}; groups {await OcoGroupRecord.all().values('state')}")
                try:
                    await run_sync_cycle(h.sync, lock)
                except ExchangeError as exc:
                    failed_cycles += 1
                    cycle_errors[type(exc).__name__] += 1
                if cycles in WAVES:
                    exchange.set_price("BTC_USDT", WAVES[cycles])
                elif cycles > max(WAVES) and backfill.done() and await converged(h, exchange, entries):
                    break
                await asyncio.sleep(0)
            progress = backfill.result()
        finally:
            backfill.cancel()
            await asyncio.gather(backfill, return_exceptions=True)
        hits = dict(exchange.sim.faults.chaos_hits)
        on_creates = Counter[str]()
        for method in CREATES:
            on_creates.update(exchange.sim.faults.chaos_hits_by_method.get(method, {}))
        requests = len(exchange.sim.calls)

        # then: every order on the exchange stored exactly once (by id and by client_oid)
        books = exchange.orders
        rows = await OrderRecord.all().values("exchange_order_id", "client_oid", "status", "filled_quantity")
        ids = Counter(r["exchange_order_id"] for r in rows)
        oids = Counter(r["client_oid"] for r in rows if r["client_oid"])
        duplicates = sum(n - 1 for n in ids.values() if n > 1) + sum(n - 1 for n in oids.values() if n > 1)
        lost = len(set(books) - set(ids))
        print(f"\n{len(books)} orders on the exchange, {len(rows)} stored; converged after {cycles} cycles "
              f"({failed_cycles} broken by faults: {dict(cycle_errors)}); back-fill {progress.orders_seen} orders "
              f"over {progress.windows_total} days; {sum(hits.values())} faults injected in {requests} requests "
              f"{hits}; {len(accepted_creates(exchange))} orders placed in {create_requests(exchange)} create "
              f"requests, {sum(on_creates.values())} of them faulted {dict(on_creates)}; "
              f"duplicates {duplicates}, lost {lost}; {time.perf_counter() - started:.1f} s")
        assert duplicates == 0 and lost == 0
        assert set(ids) == set(books)
        assert set(oids) == {o.client_oid for o in books.values() if o.client_oid}
        assert {r["exchange_order_id"]: r["client_oid"] for r in rows} == {i: o.client_oid for i, o in books.items()}
        assert sum(hits.values()) >= FAULT_RATE * requests * 0.7, (hits, requests)       # it really was a storm
        assert sum(on_creates.values()) >= 1, on_creates           # and it reached the protection's requests
        # the back-fill task retries whatever stops it: only the exchange's faults may have
        interrupted = [r.args[0] for r in caplog.records if r.msg.startswith("back-fill interrupted")
                       and isinstance(r.args, tuple)]
        assert set(interrupted) <= exchange_error_names(), interrupted

        # every filled buy protected once: one group, one order list, no order placed twice
        assert [books[e].status for e in entries] == [OrderStatus.FILLED] * PROTECTED_BUYS
        groups = await OcoGroupRecord.all()
        assert sorted(g.entry_exchange_order_id for g in groups) == sorted(entries)
        assert {g.state for g in groups} == {"active"}
        assert len(h.of(ProtectionPlaced)) == PROTECTED_BUYS
        per_client_oid = Counter(o.client_oid for o in books.values())
        assert max(per_client_oid.values()) == 1, per_client_oid.most_common(3)
        creates = accepted_creates(exchange)
        assert max(creates.values()) == 1, creates.most_common(3)      # no request placed an order twice
        sells = [o for o in books.values() if o.side is Side.SELL and o.status.is_open]
        legs = [o for o in sells if not o.client_oid.startswith("site-")]
        assert len(legs) == 2 * PROTECTED_BUYS                    # a stop-loss and a take-profit per buy
        assert len({o.list_id for o in legs}) == PROTECTED_BUYS   # one order list per buy

        # no sell exceeds what is held: each list sells its own buy's coins, and no more coins are
        # offered than the account holds
        for group in groups:
            group_legs = [o for o in legs if o.client_oid in (group.stop_loss_client_oid,
                                                             group.take_profit_client_oid)]
            assert [o.quantity for o in group_legs] == [books[group.entry_exchange_order_id].filled_quantity] * 2
        total, locked = exchange.sim.engine.balances()["BTC"]
        assert total == D("0.5") + D("0.01") * PROTECTED_BUYS
        offered = sum((o.quantity for o in sells if o.order_type is OrderType.LIMIT), D(0))
        assert locked <= total and offered <= total, (total, locked, offered)
