"""The paper fill model on a real candle file (BTC_USDT 1h, 2024), through the `Exchange` protocol."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from bot.domain.orders import OrderStatus, OrderType, Side
from bot.exchange.base import Candle, OcoRequest, OrderRequest, OtocoRequest, TriggerOrderRequest
from bot.exchange.errors import InsufficientFunds, InvalidOrder, OrderNotFound, TriggerEndpointRequired
from bot.exchange.paper import PaperExchange, ReplayMarketData
from tests.conftest import candles_dir

D = Decimal


@pytest.fixture
def paper(tmp_path: Path) -> PaperExchange:
    shutil.copy(candles_dir() / "BTC_USDT-1h.csv", tmp_path / "BTC_USDT-1h.csv")
    market = ReplayMarketData(tmp_path, warmup=100)
    return PaperExchange(market, {"USDT": D(10000), "BTC": D("0.1")}, maker_fee_percent=D("0.25"),
                         taker_fee_percent=D("0.5"), slippage_percent=D("0.05"), pace_seconds=0)


def market(paper: PaperExchange) -> ReplayMarketData:
    assert isinstance(paper.market, ReplayMarketData)
    return paper.market


def last_close(paper: PaperExchange) -> Decimal:
    current = market(paper).current("BTC_USDT")
    assert current is not None
    return current.close


def next_candle_where(paper: PaperExchange, test: Callable[[Candle], bool]) -> Candle:
    """The first candle after the replay clock that passes `test` (read from the file, not the engine)."""
    feed = market(paper)
    upcoming = feed.series["BTC_USDT"][len(feed.visible("BTC_USDT")):]
    return next(c for c in upcoming if test(c))


async def advance_until_visible(paper: PaperExchange, candle: Candle, check: Callable[[], object]) -> None:
    """Step one candle at a time; `check` runs while `candle` is still in the future."""
    while market(paper).visible("BTC_USDT")[-1].timestamp_ms < candle.timestamp_ms:
        await check()  # type: ignore[misc]
        await paper.advance()


async def test_limit_buy_fills_exactly_when_a_candles_low_crosses_it(paper: PaperExchange) -> None:
    limit = (last_close(paper) * D("0.97")).quantize(D("0.01"))
    order = await paper.create_order(OrderRequest("BTC_USDT", Side.BUY, OrderType.LIMIT, "buy-1",
                                                  quantity=D("0.01"), price=limit))
    crossing = next_candle_where(paper, lambda c: c.low <= limit)

    async def still_open() -> None:
        detail = await paper.order_detail(order_id=order.order_id)
        assert detail is not None and detail.status is OrderStatus.ACTIVE

    await advance_until_visible(paper, crossing, still_open)
    filled = await paper.order_detail(order_id=order.order_id)
    assert market(paper).visible("BTC_USDT")[-1] == crossing
    assert filled is not None and filled.status is OrderStatus.FILLED and filled.avg_price == limit
    balances = await paper.balances()
    assert balances["BTC"].total == D("0.11")
    assert balances["USDT"].total == D(10000) - limit * D("0.01") * D("1.0025")


async def test_stop_fires_on_the_first_candle_through_its_trigger(paper: PaperExchange) -> None:
    trigger = (last_close(paper) * D("0.95")).quantize(D("0.01"))
    stop = await paper.create_trigger_order(TriggerOrderRequest("BTC_USDT", Side.SELL, OrderType.STOP_LOSS, "sl-1",
                                                                D("0.05"), trigger))
    assert stop.status is OrderStatus.PENDING
    through = next_candle_where(paper, lambda c: c.low <= trigger)

    async def still_pending() -> None:
        detail = await paper.order_detail(order_id=stop.order_id)
        assert detail is not None and detail.status is OrderStatus.PENDING

    await advance_until_visible(paper, through, still_pending)
    fired = await paper.order_detail(order_id=stop.order_id)
    assert fired is not None and fired.status is OrderStatus.FILLED
    assert fired.avg_price == trigger * D("0.9995")    # trigger price less slippage
    assert fired.fee == fired.cumulative_value * D("0.005")


async def test_native_oco_one_leg_fills_and_the_other_is_canceled(paper: PaperExchange) -> None:
    last = last_close(paper)
    placement = await paper.create_oco(OcoRequest("BTC_USDT", Side.SELL, D("0.05"), last * D("1.03"),
                                                  last * D("0.97"), "tp-1", "sl-1"))
    assert (await paper.balances())["BTC"].locked == D("0.05")
    legs = []
    for _ in range(2000):
        await paper.advance()
        legs = [await paper.order_detail(order_id=i) for i in (placement.take_profit_order_id,
                                                                placement.stop_loss_order_id)]
        if any(leg is not None and leg.status.is_final for leg in legs):
            break
    assert sorted(leg.status for leg in legs if leg) == [OrderStatus.CANCELED, OrderStatus.FILLED]
    assert next(leg for leg in legs if leg and leg.status is OrderStatus.CANCELED).reason == "OCO"
    assert (await paper.balances())["BTC"].locked == 0


async def test_otoco_entry_then_exits(paper: PaperExchange) -> None:
    last = last_close(paper)
    entry = OrderRequest("BTC_USDT", Side.BUY, OrderType.LIMIT, "e-1", quantity=D("0.02"), price=last * D("0.99"))
    placement = await paper.create_otoco(OtocoRequest(entry, last * D("0.95"), last * D("1.02"), "sl-2", "tp-2"))
    stop = await paper.order_detail(order_id=placement.stop_loss_order_id)
    assert stop is not None and stop.status is OrderStatus.PENDING and stop.list_id == placement.list_id
    entry_order = await paper.order_detail(client_oid="e-1")
    for _ in range(3000):
        await paper.advance()
        legs = [await paper.order_detail(order_id=i) for i in (placement.take_profit_order_id,
                                                                placement.stop_loss_order_id)]
        if any(leg is not None and leg.status.is_final for leg in legs):
            break
    entry_order = await paper.order_detail(client_oid="e-1")
    assert entry_order is not None and entry_order.status is OrderStatus.FILLED
    assert sorted(leg.status for leg in legs if leg) == [OrderStatus.CANCELED, OrderStatus.FILLED]
    assert (await paper.balances())["BTC"].total == D("0.1")


async def test_requests_are_rounded_before_the_engine_sees_them(paper: PaperExchange) -> None:
    order = await paper.create_order(OrderRequest("BTC_USDT", Side.BUY, OrderType.LIMIT, "r-1",
                                                  quantity=D("0.0123456"), price=D("30000.019")))
    assert order.quantity == D("0.01234") and order.price == D("30000.01")
    stop = await paper.create_trigger_order(TriggerOrderRequest("BTC_USDT", Side.SELL, OrderType.STOP_LOSS, "r-2",
                                                                D("0.019999"), D("30000.019")))
    assert stop.quantity == D("0.01999") and stop.trigger_price == D("30000.01")


async def test_refusals_are_the_exchanges(paper: PaperExchange) -> None:
    last = last_close(paper)
    with pytest.raises(InsufficientFunds):
        await paper.create_order(OrderRequest("BTC_USDT", Side.BUY, OrderType.LIMIT, "big", quantity=D(5),
                                              price=last))
    with pytest.raises(InvalidOrder) as wrong_side:   # a sell stop above the market would fire at once
        await paper.create_trigger_order(TriggerOrderRequest("BTC_USDT", Side.SELL, OrderType.STOP_LOSS, "bad",
                                                             D("0.01"), last * 2))
    assert wrong_side.value.code == "229"
    with pytest.raises(TriggerEndpointRequired):
        await paper.create_order(OrderRequest("BTC_USDT", Side.SELL, OrderType.STOP_LOSS, "t", quantity=D("0.01")))
    with pytest.raises(OrderNotFound):
        await paper.cancel_order(symbol="BTC_USDT", order_id="42")
    with pytest.raises(InvalidOrder) as dust:
        await paper.create_order(OrderRequest("BTC_USDT", Side.BUY, OrderType.LIMIT, "dust", quantity=D("0.000001"),
                                              price=last))
    assert dust.value.code == "213"


async def test_the_exits_of_an_otoco_buy_are_cancelled_as_a_group(paper: PaperExchange) -> None:
    """Cancel group on an automatic buy's protection (an OTOCO) in the demo answered "Canceled" while
    both exits stayed open: the OCO cancel refused the OTOCO list as unknown, which reads as "ended"."""
    last = last_close(paper)
    entry = OrderRequest("BTC_USDT", Side.BUY, OrderType.MARKET, "e-3", quantity=D("0.01"))
    placement = await paper.create_otoco(OtocoRequest(entry, last * D("0.90"), last * D("1.10"), "sl-3", "tp-3"))

    await paper.cancel_oco(placement.list_id, "BTC_USDT")

    legs = [await paper.order_detail(order_id=i) for i in (placement.take_profit_order_id,
                                                          placement.stop_loss_order_id)]
    assert [leg.status for leg in legs if leg] == [OrderStatus.CANCELED, OrderStatus.CANCELED]
