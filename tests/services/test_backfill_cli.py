"""`run_backfill`: the CLI entry walks everything, then a second run has nothing left to do."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from bot.db.config import close_db, init_db
from bot.db.models import OrderRecord
from bot.services.backfill_cli import run_backfill
from bot.settings import load_settings
from tests.services.stand_in_exchange import StandInExchange
from tests.services.sync_harness import BTC

pytestmark = pytest.mark.sync
DAY = 86_400 * 10**9


async def test_cli_backfill_then_nothing_left(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    await close_db()
    exchange = StandInExchange({"BTC_USDT": BTC}, {"USDT": Decimal(10)})
    now = time.time_ns()
    exchange.seed_history(120, symbol="BTC_USDT", start_ns=now - 5 * DAY, end_ns=now - DAY // 10)
    settings = load_settings(DATABASE_URL=db)
    assert await run_backfill(settings, exchange=exchange, days=6, min_interval_s=0, show_progress=False) == 0
    assert "120 new" in capsys.readouterr().out
    assert await run_backfill(settings, exchange=exchange, days=6, min_interval_s=0, show_progress=False) == 0
    assert "already complete" in capsys.readouterr().out
    await init_db(db, run_migrations=False)
    assert await OrderRecord.all().count() == 120
