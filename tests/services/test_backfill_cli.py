"""`run_backfill`: the CLI entry walks everything, then a second run has nothing left to do. It runs
the way a user runs it: settings with LIVE_TRADING=true, pointed at the simulator, no exchange given."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from bot.cli.backfill import run_backfill
from bot.db.config import close_db, init_db
from bot.db.models import OrderRecord
from bot.devtools.simulator_harness import running_simulator
from bot.exchange.simulator import SimulatorConfig

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
