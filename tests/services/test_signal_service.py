"""Market updater + signal monitor on the paper exchange with real candles; one bad coin never stops the others."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from bot.db.models import IndicatorSnapshot, SignalRecord, StrategyState, WatchlistEntry
from bot.domain.events import SignalChanged
from bot.domain.strategy import StrategyParams
from bot.exchange.paper import build_paper_exchange
from bot.services.events import EventBus
from bot.services.signals import SignalService
from bot.settings import load_settings
from tests.conftest import candles_dir


@pytest.fixture
async def paper(db: str, tmp_path: Path):
    for name in ("BTC_USDT-1h.csv", "TON_USDT-1h.csv"):
        shutil.copy(candles_dir() / name, tmp_path / name)
    exchange = build_paper_exchange(load_settings(), market_data=f"replay:{tmp_path}", pace_seconds=0)
    await exchange.start()
    try:
        yield exchange
    finally:
        await exchange.close()


async def test_bad_coins_are_stale_with_a_reason_and_the_others_get_snapshots(paper) -> None:
    # TON_USDT has no candles yet at the replay clock (its file starts in August); NOPE_USDT does not exist.
    for symbol in ("BTC_USDT", "NOPE_USDT", "TON_USDT"):
        await WatchlistEntry.create(symbol=symbol, alert_enabled=True)
    service = SignalService(paper, EventBus(), StrategyParams())
    outcome = await service.update_market()
    assert outcome["BTC_USDT"] is None
    assert outcome["TON_USDT"] and outcome["NOPE_USDT"]
    assert "no market data" in outcome["NOPE_USDT"]
    btc = await IndicatorSnapshot.get(symbol="BTC_USDT")
    assert not btc.stale and {"rsi", "ema200", "macd", "atr", "bb_upper", "volume_ratio"} <= set(btc.values)
    verdicts = await service.monitor()
    assert set(verdicts) == {"BTC_USDT"}
    record = await SignalRecord.get(symbol="BTC_USDT")
    assert record.reasons and record.indicators["rsi"] == btc.values["rsi"]


async def test_alerts_once_per_signal_change_not_every_cycle(paper) -> None:
    await WatchlistEntry.create(symbol="BTC_USDT", alert_enabled=True)
    events = EventBus()
    alerts: list[SignalChanged] = []

    async def keep(event) -> None:
        alerts.append(event)

    events.subscribe(SignalChanged, keep)
    # Thresholds chosen so the current RSI is always a SELL: the same signal cycle after cycle.
    service = SignalService(paper, events, StrategyParams(rsi_buy=Decimal(1), rsi_sell=Decimal(2)))
    await service.update_market()
    for _ in range(3):
        await service.monitor()
    assert [a.decision for a in alerts] == ["SELL"]
    assert await SignalRecord.filter(symbol="BTC_USDT").count() == 3
    assert (await StrategyState.get(symbol="BTC_USDT")).last_decision == "SELL"
