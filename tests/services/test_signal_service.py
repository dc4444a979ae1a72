"""Market updater + signal monitor on the paper exchange with real candles; one bad coin never stops the others."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from bot.db.models import AutoOrderDecision, IndicatorSnapshot, SignalRecord, StrategyState, WatchlistEntry
from bot.domain.events import AutoOrderPlaced, SignalChanged
from bot.domain.reasons import Reason
from bot.domain.strategy import Decision, StrategyParams
from bot.exchange.paper import build_paper_exchange
from bot.services.auto_orders import AutoOrderService
from bot.services.events import EventBus
from bot.services.signals import SignalService
from bot.settings import load_settings
from tests.conftest import candle_file


@pytest.fixture
async def paper(db: str, tmp_path: Path):
    for name in ("BTC_USDT-1h.csv", "TON_USDT-1h.csv"):
        shutil.copy(candle_file(name), tmp_path / name)
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
    # The reasons are kept as keys + values too, so /signals words them in each reader's language.
    kept = [Reason.from_stored(r) for r in record.explained]
    assert [r.text for r in kept if r is not None] == record.reasons


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


ALWAYS_BUY = StrategyParams(rsi_buy=Decimal(99), rsi_sell=Decimal("99.9"), min_volume_ratio=Decimal(0))
ALWAYS_WAIT = StrategyParams(rsi_buy=Decimal(1), rsi_sell=Decimal("99.9"))


async def test_tracking_survives_wait_cycles_and_only_a_new_buy_alerts_again(paper) -> None:
    await WatchlistEntry.create(symbol="BTC_USDT", alert_enabled=True)
    events = EventBus()
    buyer, waiter = SignalService(paper, events, ALWAYS_BUY), SignalService(paper, events, ALWAYS_WAIT)

    await buyer.update_market()
    first = (await buyer.monitor())["BTC_USDT"]
    reference = first.state.reference_price
    assert first.decision is Decision.BUY and reference == (await paper.ticker("BTC_USDT")).last
    for _ in range(2):       # two 30 s cycles of WAIT: the stored state keeps the BUY's reference
        assert (await waiter.monitor())["BTC_USDT"].decision is Decision.WAIT
    stored = await StrategyState.get(symbol="BTC_USDT")
    assert stored.last_decision == "WAIT"
    assert stored.state == {"reference_price": str(reference), "last_signal": "BUY"}

    held = (await buyer.monitor())["BTC_USDT"]
    assert held.decision is Decision.WAIT and f"from the last BUY at {reference}" in held.reasons[-1]

    # The market moves on, candle by candle, until the price is 3 % away from the reference.
    for _ in range(2000):
        await paper.advance()
        price = (await paper.ticker("BTC_USDT")).last
        if abs(price - reference) / reference >= Decimal("0.03"):
            break
    await buyer.update_market()
    again = (await buyer.monitor())["BTC_USDT"]
    assert again.decision is Decision.BUY and again.state.reference_price == price
    alerts = [e for e in events.published if isinstance(e, SignalChanged)]
    assert [(a.decision, a.price) for a in alerts] == [("BUY", reference), ("BUY", price)]
    assert await SignalRecord.filter(symbol="BTC_USDT").count() == 5


async def test_a_trade_yes_coin_gets_orders_not_alerts(paper) -> None:
    await WatchlistEntry.create(symbol="BTC_USDT", alert_enabled=True, trade_enabled=True, amount_usd=Decimal(100))
    events = EventBus()
    service = SignalService(paper, events, ALWAYS_BUY, auto_orders=AutoOrderService(paper, events))
    await service.update_market()
    for _ in range(3):
        await service.monitor()
    assert not [e for e in events.published if isinstance(e, SignalChanged)]
    placed = [e for e in events.published if isinstance(e, AutoOrderPlaced)]
    assert len(placed) == 1 and placed[0].symbol == "BTC_USDT"      # one order per signal, not per cycle
    assert await AutoOrderDecision.filter(symbol="BTC_USDT").count() == 1
