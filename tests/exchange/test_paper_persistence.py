"""A restart keeps the paper exchange's orders, balances and market clock (SQLite, or PostgreSQL)."""

from __future__ import annotations

import asyncio
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from bot.db.config import close_db, init_db
from bot.db.models import PaperBalance, PaperOrder
from bot.domain.orders import OrderStatus, OrderType, Side
from bot.exchange.base import OcoRequest, OrderRequest
from bot.exchange.paper import PaperExchange, PaperStore, ReplayMarketData, build_paper_exchange
from bot.settings import Settings
from tests.conftest import candles_dir

pytestmark = pytest.mark.storage
D = Decimal


def new_paper(directory: Path) -> PaperExchange:
    settings = Settings(_env_file=None, PAPER_STARTING_BALANCES="USDT=10000,BTC=0.5")  # type: ignore[call-arg]
    return build_paper_exchange(settings, market_data=ReplayMarketData(directory, warmup=50), pace_seconds=0,
                                store=PaperStore())


async def state_of(paper: PaperExchange) -> tuple[object, ...]:
    history = await paper.order_history(0, 2**62)
    return (await paper.balances(), await paper.open_orders(), history.orders,
            paper.market.now_ns(), (await paper.engine()).last_price("BTC_USDT"))


async def test_orders_and_balances_survive_a_restart(db: str, tmp_path: Path) -> None:
    shutil.copy(candles_dir() / "BTC_USDT-1h.csv", tmp_path / "BTC_USDT-1h.csv")
    paper = new_paper(tmp_path)
    await paper.start()
    last = (await paper.engine()).last_price("BTC_USDT")
    assert last is not None
    await paper.create_order(OrderRequest("BTC_USDT", Side.BUY, OrderType.LIMIT, "b1", quantity=D("0.01"),
                                          price=last * D("0.5")))
    await paper.create_order(OrderRequest("BTC_USDT", Side.BUY, OrderType.MARKET, "m1", quantity=D("0.001")))
    canceled = await paper.create_order(OrderRequest("BTC_USDT", Side.BUY, OrderType.LIMIT, "c1",
                                                     quantity=D("0.01"), price=last * D("0.6")))
    await paper.cancel_order(symbol="BTC_USDT", order_id=canceled.order_id)
    oco = await paper.create_oco(OcoRequest("BTC_USDT", Side.SELL, D("0.2"), last * 2, last * D("0.5"),
                                            "tp1", "sl1"))
    await paper.advance(candles=3)
    before = await state_of(paper)
    await paper.close()
    await close_db()

    await init_db(db)
    again = new_paper(tmp_path)
    await again.start()
    after = await state_of(again)
    assert after == before
    assert (await again.balances())["BTC"].locked == D("0.2")
    leg = await again.order_detail(order_id=oco.stop_loss_order_id)
    assert leg is not None and leg.list_id == oco.list_id and leg.status is OrderStatus.PENDING
    assert await PaperOrder.filter(account="main").count() == 5
    assert (await PaperBalance.get(account="main", asset="BTC")).locked == D("0.2")
    # It keeps trading where it left off: new ids, and the OCO still works after the restart.
    await again.cancel_oco(oco.list_id, "BTC_USDT")
    assert (await again.balances())["BTC"].locked == 0
    fresh = await again.create_order(OrderRequest("BTC_USDT", Side.BUY, OrderType.LIMIT, "b2", quantity=D("0.01"),
                                                  price=last * D("0.5")))
    assert fresh.order_id not in {o.order_id for o in before[1]}  # type: ignore[attr-defined]
    await again.close()


async def test_order_updates_stream_every_change(tmp_path: Path) -> None:
    shutil.copy(candles_dir() / "BTC_USDT-1h.csv", tmp_path / "BTC_USDT-1h.csv")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    paper = build_paper_exchange(settings, market_data=ReplayMarketData(tmp_path), pace_seconds=0, store=None)
    stream = paper.order_updates()
    first = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0)
    order = await paper.create_order(OrderRequest("BTC_USDT", Side.BUY, OrderType.MARKET, "m", quantity=D("0.01")))
    seen = [(await asyncio.wait_for(first, 5)).order.status,
            (await asyncio.wait_for(stream.__anext__(), 5)).order.status]
    assert seen == [OrderStatus.ACTIVE, OrderStatus.FILLED] and order.status is OrderStatus.FILLED
    await stream.aclose()
    await paper.close()
