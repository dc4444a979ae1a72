"""Automatic orders on the paper exchange: each rule's refusal, and a sequence that passes them all."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.db.models import AutoOrderDecision, WatchlistEntry
from bot.domain.events import AutoOrderPlaced, AutoOrderRefused
from bot.domain.orders import Side
from bot.domain.reasons import Reason
from bot.exchange.paper import build_paper_exchange
from bot.services.auto_orders import AutoOrderService
from bot.services.events import EventBus
from bot.settings import load_settings
from tests.conftest import candles_dir

T0 = datetime(2026, 11, 24, tzinfo=UTC)


@pytest.fixture
async def paper(db: str, tmp_path: Path):
    shutil.copy(candles_dir() / "ETH_USDT-1h.csv", tmp_path / "ETH_USDT-1h.csv")
    exchange = build_paper_exchange(load_settings(), market_data=f"replay:{tmp_path}", pace_seconds=0)
    await exchange.start()
    try:
        yield exchange
    finally:
        await exchange.close()


async def entry(**fields) -> WatchlistEntry:
    defaults = dict(symbol="ETH_USDT", trade_enabled=True, amount_usd=Decimal(100))
    return await WatchlistEntry.create(**(defaults | fields))


async def test_a_sequence_that_passes_every_rule_then_each_refusal(paper) -> None:
    coin = await entry()
    service = AutoOrderService(paper, EventBus())
    last = (await paper.ticker("ETH_USDT")).last
    below = [last * Decimal(f"0.{p}") for p in ("99", "95", "91", "87")]   # each >= 3 % from the previous

    placed = [await service.consider(coin, price, T0 + timedelta(minutes=i)) for i, price in enumerate(below[:3])]
    assert all(d.allowed for d in placed)
    buys = [o for o in await paper.open_orders("ETH_USDT") if o.side is Side.BUY]
    assert len(buys) == 3 and all(o.quantity * o.price <= Decimal(100) for o in buys)

    fourth = await service.consider(coin, below[3], T0 + timedelta(minutes=9))
    assert not fourth.allowed and fourth.rule == "max_open_per_symbol"

    coin.max_open_orders = 5
    same = await service.consider(coin, below[2], T0 + timedelta(minutes=10))
    assert not same.allowed and same.rule == "duplicate_price"
    near = await service.consider(coin, below[2] * Decimal("0.99"), T0 + timedelta(minutes=11))
    assert not near.allowed and near.rule == "min_price_move" and "needs 3 %" in near.detail
    kept = Reason.from_stored({"key": near.rule, "values": (await AutoOrderDecision.get(id=near.id)).args})
    assert kept is not None and kept.text == near.detail


async def test_trade_no_and_insufficient_balance_are_refused_and_stored(paper) -> None:
    service = AutoOrderService(paper, EventBus())
    last = (await paper.ticker("ETH_USDT")).last
    off = await service.consider(await entry(trade_enabled=False), last, T0)
    assert off.rule == "trade_disabled"
    await WatchlistEntry.all().delete()
    rich = await service.consider(await entry(amount_usd=Decimal(50000)), last, T0)
    assert rich.rule == "insufficient_balance" and "free 10000" in rich.detail
    assert await AutoOrderDecision.filter(allowed=False).count() == 2
    assert await paper.open_orders("ETH_USDT") == []


async def test_the_same_signal_never_places_twice(paper) -> None:
    coin = await entry(min_price_move_percent=Decimal(0))
    service = AutoOrderService(paper, EventBus())
    last = (await paper.ticker("ETH_USDT")).last
    events = service.events
    first = await service.consider(coin, last * Decimal("0.98"), T0)
    again = await service.consider(coin, last * Decimal("0.97"), T0)   # a restart replays the same signal
    assert again.allowed and again.id == first.id and again.price == first.price
    assert len([o for o in await paper.open_orders("ETH_USDT") if o.side is Side.BUY]) == 1
    assert len([e for e in events.published if isinstance(e, AutoOrderPlaced)]) == 1


async def test_a_buy_that_landed_before_a_crash_is_never_placed_again(paper) -> None:
    coin = await entry(min_price_move_percent=Decimal(0))
    service = AutoOrderService(paper, EventBus())
    last = (await paper.ticker("ETH_USDT")).last
    first = await service.consider(coin, last * Decimal("0.98"), T0)
    await AutoOrderDecision.filter(id=first.id).delete()             # the crash lost the decision's row
    again = await service.consider(coin, last * Decimal("0.98"), T0)
    assert not again.allowed and again.rule == "duplicate_price"       # the exchange's open buy counts
    assert len([o for o in await paper.open_orders("ETH_USDT") if o.side is Side.BUY]) == 1


async def test_a_placed_buy_is_protected_three_percent_each_side_from_its_first_fill(paper) -> None:
    coin = await entry()
    service = AutoOrderService(paper, EventBus())
    last = (await paper.ticker("ETH_USDT")).last
    decision = await service.consider(coin, last, T0)
    assert decision.allowed
    engine = await paper.engine()
    buy = engine.get(client_oid=decision.client_oid)
    legs = {leg.leg_role: leg for leg in engine.list_orders(buy.list_id)}
    price, tick = buy.price, (await paper.instrument("ETH_USDT")).price_tick
    assert legs["stop_loss"].trigger_price == (price * Decimal("0.97")).quantize(tick, rounding="ROUND_DOWN")
    assert legs["take_profit"].price == (price * Decimal("1.03")).quantize(tick, rounding="ROUND_UP")
    assert legs["stop_loss"].quantity == legs["take_profit"].quantity == buy.quantity
    # The entry at the last price fills at once, so both exits are live before the next candle.
    assert buy.status.value == "FILLED" and all(legs[r].is_live for r in ("stop_loss", "take_profit"))


async def test_refusals_are_published_and_a_dust_amount_is_refused(paper) -> None:
    events = EventBus()
    service = AutoOrderService(paper, events)
    last = (await paper.ticker("ETH_USDT")).last
    dust = await service.consider(await entry(amount_usd=Decimal("0.01")), last, T0)
    assert not dust.allowed and dust.rule == "amount_too_small"
    refused = [e for e in events.published if isinstance(e, AutoOrderRefused)]
    assert [(e.symbol, e.rule) for e in refused] == [("ETH_USDT", "amount_too_small")]
    assert await paper.open_orders("ETH_USDT") == []
