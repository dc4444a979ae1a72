"""`run_backfill`: the CLI entry walks everything, then a second run has nothing left to do. It runs
the way a user runs it: settings with LIVE_TRADING=true, pointed at the simulator, no exchange given."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.cli.backfill import run_backfill
from bot.db.config import close_db, init_db
from bot.db.models import LockRecord, OrderRecord
from bot.db.repositories import OrderRepository
from bot.devtools.simulator_harness import running_simulator
from bot.exchange.factory import build_exchange
from bot.exchange.simulator import SimulatorConfig
from bot.jobs.sync_job import run_sync_cycle
from bot.services.events import EventBus
from bot.services.locks import SYNC_LOCK_NAME, DatabaseJobLock
from bot.services.sync import SyncService

pytestmark = pytest.mark.sync
DAY = 86_400 * 10**9


async def test_cli_backfill_then_nothing_left(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    await close_db()
    async with running_simulator(SimulatorConfig(balances={"USDT": Decimal(10)})) as sim:
        now = time.time_ns()
        sim.seed_history(120, symbol="BTC_USDT", start_ns=now - 5 * DAY, end_ns=now - DAY // 10)
        settings = sim.settings(DATABASE_URL=db, LIVE_TRADING="true", EXCHANGE_WS_URL="")
        assert await run_backfill(settings, days=6, show_progress=False) == 0
        assert "120 new" in capsys.readouterr().out
        history_requests = len(sim.calls_to("private/get-order-history"))
        assert history_requests >= 6 and all(c.code == "0" for c in sim.calls_to("private/get-order-history"))
        assert await run_backfill(settings, days=6, show_progress=False) == 0
        assert "already complete" in capsys.readouterr().out
        assert len(sim.calls_to("private/get-order-history")) == history_requests
    await init_db(db, run_migrations=False)
    assert await OrderRecord.all().count() == 120


async def test_backfill_and_a_running_bot_take_turns_on_the_order_history(db: str) -> None:
    """The back-fill holds the sync lock (in the database, shared across processes) for its whole
    walk: the bot's cycles in the meantime are skipped, and the exchange never answers 42901."""
    async with running_simulator(SimulatorConfig(balances={"USDT": Decimal(10)})) as sim:
        now = time.time_ns()
        sim.seed_history(60, symbol="BTC_USDT", start_ns=now - 4 * DAY, end_ns=now - DAY // 10)
        settings = sim.settings(DATABASE_URL=db, LIVE_TRADING="true", EXCHANGE_WS_URL="")
        bot_exchange = build_exchange(settings)
        bot_sync = SyncService(bot_exchange, EventBus(), OrderRepository(bot_exchange.mode), None)
        bot_lock = DatabaseJobLock("bot")
        try:
            walk = asyncio.create_task(run_backfill(settings, days=5, show_progress=False))
            # Its first history request comes after it took the lock. (Waiting on the simulator, not
            # the database: the walk re-initialises the ORM this test shares with it in one process.)
            while not sim.calls_to("private/get-order-history"):
                assert not walk.done(), walk.result()
                await asyncio.sleep(0.05)
            assert await LockRecord.filter(name=SYNC_LOCK_NAME, owner__startswith="backfill@").exists()
            skipped = [await run_sync_cycle(bot_sync, bot_lock) for _ in range(3)]
            assert await walk == 0
            assert skipped == [None, None, None]
            await init_db(db, run_migrations=False)      # run_backfill closed the connections on its way out
            assert await run_sync_cycle(bot_sync, bot_lock) is not None     # its turn again
        finally:
            await bot_exchange.close()
        history = sim.calls_to("private/get-order-history") + sim.calls_to("private/advanced/get-order-history")
        assert len(history) >= 5 and {c.code for c in history} == {"0"}
    assert not await LockRecord.filter(name=SYNC_LOCK_NAME).exists()


async def test_backfill_refuses_with_one_line_while_the_bot_keeps_syncing(db: str,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    async with running_simulator(SimulatorConfig(balances={"USDT": Decimal(10)})) as sim:
        settings = sim.settings(DATABASE_URL=db, LIVE_TRADING="true", EXCHANGE_WS_URL="")
        # A bot process in a cycle that does not end (its lease renewed all along).
        await LockRecord.create(name=SYNC_LOCK_NAME, owner="bot@host:4242:0a1b2c3d",
                                expires_at=datetime.now(UTC) + timedelta(minutes=5))
        assert await run_backfill(settings, days=5, show_progress=False, lock_wait_seconds=0.3) == 2
        assert sim.calls_to("private/get-order-history") == []
    out, err = capsys.readouterr()
    assert out == "waiting for the running bot's sync cycle to finish…\n"
    assert err == ("backfill: the running bot has been syncing this account for 0.3 s (lock 'sync-cycle'); "
                   "run the back-fill again when its cycle ends\n")
