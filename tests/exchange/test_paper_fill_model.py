"""The paper fill model on a real candle file (BTC_USDT 1h, 2024)."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from bot.domain.orders import OrderStatus, OrderType, Side
from bot.exchange.base import OcoRequest, OrderRequest, TriggerOrderRequest
from bot.exchange.errors import InsufficientFunds, InvalidOrder
from bot.exchange.paper import PaperExchange, ReplayMarketData
from tests.conftest import candles_dir


@pytest.fixture
def paper(tmp_path: Path) -> PaperExchange:
    shutil.copy(candles_dir() / "BTC_USDT-1h.csv", tmp_path / "BTC_USDT-1h.csv")
    market = ReplayMarketData(tmp_path, warmup=100)
    return PaperExchange(market, {"USDT": Decimal(10000), "BTC": Decimal("0.1")}, maker_fee_percent=Decimal("0.25"),
                         taker_fee_percent=Decimal("0.5"), slippage_percent=Decimal("0.05"), pace_seconds=3600)


def first_index(paper: PaperExchange, test) -> int:
    series, start = paper.market.series["BTC_USDT"], paper.market.cursor["BTC_USDT"] + 1
    return next(i for i in range(start, len(series)) if test(series[i]))


async def test_limit_buy_fills_exactly_when_a_candles_low_crosses_it(paper: PaperExchange) -> None:
    last = paper.market.current("BTC_USDT").close
    limit = (last * Decimal("0.97")).quantize(Decimal("0.01"))
    order = await paper.create_order(OrderRequest("BTC_USDT", Side.BUY, OrderType.LIMIT, "buy-1",
                                                  quantity=Decimal("0.01"), price=limit))
    crossing = first_index(paper, lambda c: c.low <= limit)
    while paper.market.cursor["BTC_USDT"] < crossing - 1:
        paper.advance()
        assert (await paper.order_detail(order_id=order.order_id)).status is OrderStatus.ACTIVE
    paper.advance()
    filled = await paper.order_detail(order_id=order.order_id)
    assert filled.status is OrderStatus.FILLED and filled.avg_price == limit
    balances = await paper.balances()
    assert balances["BTC"].total == Decimal("0.11")
    assert balances["USDT"].total == Decimal(10000) - limit * Decimal("0.01") * Decimal("1.0025")


async def test_stop_fires_on_the_first_candle_through_its_trigger(paper: PaperExchange) -> None:
    last = paper.market.current("BTC_USDT").close
    trigger = (last * Decimal("0.95")).quantize(Decimal("0.01"))
    stop = await paper.create_trigger_order(TriggerOrderRequest("BTC_USDT", Side.SELL, OrderType.STOP_LOSS, "sl-1",
                                                                Decimal("0.05"), trigger))
    assert stop.status is OrderStatus.PENDING
    through = first_index(paper, lambda c: c.low <= trigger)
    while paper.market.cursor["BTC_USDT"] < through:
        paper.advance()
    fired = await paper.order_detail(order_id=stop.order_id)
    assert fired.status is OrderStatus.FILLED
    assert fired.avg_price == trigger * Decimal("0.9995")    # trigger price less slippage


async def test_native_oco_cancels_the_other_leg(paper: PaperExchange) -> None:
    last = paper.market.current("BTC_USDT").close
    placement = await paper.create_oco(OcoRequest("BTC_USDT", Side.SELL, Decimal("0.05"), last * Decimal("1.03"),
                                                  last * Decimal("0.97"), "tp-1", "sl-1"))
    for _ in range(2000):
        paper.advance()
        legs = [await paper.order_detail(order_id=i) for i in (placement.take_profit_order_id,
                                                                placement.stop_loss_order_id)]
        if any(leg.status.is_final for leg in legs):
            break
    statuses = sorted(leg.status for leg in legs)
    assert statuses == [OrderStatus.CANCELED, OrderStatus.FILLED]
    assert (await paper.balances())["BTC"].locked == 0


async def test_refusals_are_the_exchanges(paper: PaperExchange) -> None:
    last = paper.market.current("BTC_USDT").close
    with pytest.raises(InsufficientFunds):
        await paper.create_order(OrderRequest("BTC_USDT", Side.BUY, OrderType.LIMIT, "big", quantity=Decimal(5),
                                              price=last))
    with pytest.raises(InvalidOrder):   # a sell stop above the market would fire at once
        await paper.create_trigger_order(TriggerOrderRequest("BTC_USDT", Side.SELL, OrderType.STOP_LOSS, "bad",
                                                             Decimal("0.01"), last * 2))
