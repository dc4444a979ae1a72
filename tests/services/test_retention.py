"""Retention: indicator snapshots and signal decisions older than SIGNAL_RETENTION_DAYS are rolled
up (each coin keeps its newest snapshot, and of its decisions each change and its newest); orders,
executed history and protection groups are never touched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.db.models import (
    IndicatorSnapshot,
    OcoGroupRecord,
    OrderRecord,
    PendingAction,
    PortfolioSnapshot,
    SignalRecord,
)
from bot.db.repositories import (
    IndicatorRepository,
    NewSignal,
    NewSnapshot,
    PendingActionRepository,
    RetentionRepository,
    SignalRepository,
)
from bot.services.retention import RetentionService

pytestmark = pytest.mark.storage
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
D = Decimal


async def decisions(symbol: str, sequence: str, *, days_ago: float) -> None:
    """One decision a minute, oldest first: `sequence` is a string of W (WAIT), B (BUY), S (SELL)."""
    names = {"W": "WAIT", "B": "BUY", "S": "SELL"}
    start = NOW - timedelta(days=days_ago)
    await SignalRepository().record([
        NewSignal(symbol=symbol, decision=names[c], price=D(100), reasons=[f"{symbol} {i}"], indicators={},
                  candle_time=None, decided_at=start + timedelta(minutes=i)) for i, c in enumerate(sequence)],
        {}, now=NOW)


async def snapshots(symbol: str, count: int, *, days_ago: float) -> None:
    start = NOW - timedelta(days=days_ago)
    await IndicatorRepository().add_many([
        NewSnapshot(symbol=symbol, timeframe="1h", candle_time=None, values={"rsi": str(i)}, stale_reason=None,
                    computed_at=start + timedelta(minutes=i)) for i in range(count)])


async def remaining(symbol: str) -> str:
    rows = await SignalRecord.filter(symbol=symbol).order_by("id").values_list("decision", flat=True)
    return "".join(str(d)[0] for d in rows)


async def test_old_records_are_rolled_up_and_trading_history_is_kept(db: str) -> None:
    await decisions("BTC_USDT", "WWWWWBWWWSS", days_ago=10)
    await decisions("BTC_USDT", "WWW", days_ago=1)                 # within the retention: untouched
    await decisions("ETH_USDT", "WWWW", days_ago=9)                # a coin no longer watched
    await snapshots("BTC_USDT", 5, days_ago=10)
    await snapshots("BTC_USDT", 2, days_ago=1)
    await snapshots("ETH_USDT", 3, days_ago=9)
    now = datetime.now(UTC)
    order = await OrderRecord.create(mode="live", exchange_order_id="1", symbol="BTC_USDT", side="BUY",
                                     order_type="LIMIT", status="FILLED", quantity=D(1), filled_quantity=D(1),
                                     exchange_created_at=now - timedelta(days=400), create_time_ns=1)
    await OcoGroupRecord.create(id="g-old", mode="live", symbol="BTC_USDT",
                                entry_exchange_order_id=order.exchange_order_id, state="closed", quantity=D(1),
                                entry_price=D(100), stop_loss_price=D(97), take_profit_price=D(103))
    await PortfolioSnapshot.create(mode="live", taken_at=now - timedelta(days=400), total_usd=D(1))
    alerts_before = await SignalRepository().last_alerts(["BTC_USDT"])

    service = RetentionService(7, clock=lambda: NOW, repository=RetentionRepository(batch=3))
    report = await service.run()

    # Each change of decision and the coin's newest stay; repeats within the old part go.
    assert await remaining("BTC_USDT") == "WBWS" + "WWW"
    assert await remaining("ETH_USDT") == "WW"                      # its first and its newest
    assert report.signals_deleted == 7 + 2
    assert await IndicatorSnapshot.filter(symbol="BTC_USDT").count() == 2
    eth = await IndicatorSnapshot.filter(symbol="ETH_USDT").values_list("values", flat=True)
    assert eth == [{"rsi": "2"}]                                    # the newest, however old
    assert report.snapshots_deleted == 5 + 2
    # What the views read is still there: each coin's newest decision and its last alert (the
    # SELL run is now its first row: when the alert was told).
    latest = await SignalRepository().latest(["BTC_USDT", "ETH_USDT"])
    assert latest["BTC_USDT"].decided_at == NOW - timedelta(days=1) + timedelta(minutes=2)
    assert latest["ETH_USDT"].decided_at == NOW - timedelta(days=9) + timedelta(minutes=3)
    alert = (await SignalRepository().last_alerts(["BTC_USDT"]))["BTC_USDT"]
    assert alert.decision == "SELL" and alert.decided_at < alerts_before["BTC_USDT"].decided_at
    assert await OrderRecord.all().count() == 1 and await OcoGroupRecord.all().count() == 1
    assert await PortfolioSnapshot.all().count() == 1

    again = await service.run()                                    # nothing more to do
    assert (again.signals_deleted, again.snapshots_deleted) == (0, 0)
    later = RetentionService(7, clock=lambda: NOW + timedelta(days=7))
    await later.run()                                              # the recent part ages too
    assert await remaining("BTC_USDT") == "WBWSWW"                 # a new run: its first and the newest
    assert await IndicatorSnapshot.filter(symbol="BTC_USDT").count() == 1


async def test_unconfirmed_previews_go_and_confirmed_actions_stay(db: str) -> None:
    repo = PendingActionRepository()
    for name, state, days_ago in (("old-dismissed", "canceled", 10), ("old-expired", "pending", 10),
                                  ("old-done", "done", 10), ("old-failed", "failed", 10),
                                  ("new-expired", "pending", 1), ("new-dismissed", "canceled", 1)):
        await repo.create(action_id=name, telegram_id=1, kind="protect", payload={}, mode="paper",
                          expires_at=NOW - timedelta(days=days_ago))
        await PendingAction.filter(id=name).update(state=state)

    report = await RetentionService(7, clock=lambda: NOW).run()

    assert report.previews_deleted == 2
    kept = sorted(await PendingAction.all().values_list("id", flat=True))
    assert kept == ["new-dismissed", "new-expired", "old-done", "old-failed"]
    assert await repo.get("old-expired") is None                   # a late press: "no longer available"


def test_the_retention_runs_every_hour_with_its_setting(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from bot.jobs.registry import job_definitions
    from bot.settings import SettingsError, load_settings

    monkeypatch.chdir(tmp_path)                                    # no stray .env

    async def job() -> None:
        return None

    settings = load_settings()
    assert settings.SIGNAL_RETENTION_DAYS == 7
    jobs = {name: spec for name, spec, _ in job_definitions(settings, sync=job, market=job, signals=job,
                                                             retention=job)}
    assert jobs["retention"] == "0 0 */1 * * *"
    with pytest.raises(SettingsError, match="SIGNAL_RETENTION_DAYS"):
        load_settings(SIGNAL_RETENTION_DAYS=0)
