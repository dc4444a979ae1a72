"""The newest decision of each coin, in two queries whatever the watchlist's size. Runs again on
PostgreSQL (the statement is written per dialect)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.db.models import AutoOrderDecision, SignalRecord
from bot.db.repositories import AutoOrderDecisionRepository, SignalRepository, WatchlistRepository

pytestmark = pytest.mark.storage
AT = datetime(2026, 12, 5, tzinfo=UTC)


async def test_each_coins_newest_signal_across_more_coins_than_one_statement_holds(db: str) -> None:
    rows = []
    for i in range(620):
        for n, decision in enumerate(("BUY", "WAIT", "SELL")[: 1 + i % 3]):
            rows.append(SignalRecord(symbol=f"C{i:03d}_USDT", decision=decision, price=Decimal(i + n),
                                     reasons=[], indicators={}, decided_at=AT + timedelta(minutes=n)))
    await SignalRecord.bulk_create(rows, batch_size=500)
    latest = await SignalRepository().latest([f"C{i:03d}_USDT" for i in range(620)] + ["NEVER_USDT", "O'Q_USDT"])
    assert len(latest) == 620
    assert latest["C000_USDT"].decision == "BUY" and latest["C001_USDT"].decision == "WAIT"
    assert latest["C614_USDT"].decision == "SELL" and latest["C614_USDT"].price == Decimal(616)
    assert await SignalRepository().latest([]) == {}


async def test_newest_automatic_order_decision_per_coin_in_one_mode(db: str) -> None:
    for mode, allowed in (("paper", False), ("paper", True), ("live", False)):
        await AutoOrderDecision.create(mode=mode, symbol="BTC_USDT", allowed=allowed, decided_at=AT)
    await AutoOrderDecision.create(mode="live", symbol="ETH_USDT", allowed=True, decided_at=AT)
    paper = await AutoOrderDecisionRepository("paper").latest(["BTC_USDT", "ETH_USDT"])
    assert list(paper) == ["BTC_USDT"] and paper["BTC_USDT"].allowed is True
    live = await AutoOrderDecisionRepository("live").latest(["BTC_USDT", "ETH_USDT"])
    assert live["BTC_USDT"].allowed is False and live["ETH_USDT"].allowed is True


async def test_watchlist_add_update_remove(db: str) -> None:
    watchlist = WatchlistRepository()
    await watchlist.add("BTC_USDT", stop_loss_percent=Decimal(2))
    updated = await watchlist.update("BTC_USDT", trade_enabled=True)
    assert updated is not None and updated.trade_enabled and updated.stop_loss_percent == Decimal(2)
    assert await watchlist.update("ETH_USDT", trade_enabled=True) is None
    assert await watchlist.remove("BTC_USDT") is True
    assert await watchlist.remove("BTC_USDT") is False
