"""Order history: final states only, start inclusive / end exclusive, newest first, limit <= 100, fast."""

from __future__ import annotations

import time
from decimal import Decimal

from bot.domain.orders import OrderStatus, OrderType, Side
from bot.exchange.engine import EngineOrder
from tests.exchange.engine_helpers import engine, limit


def final(i: int, symbol: str = "BTC_USDT", status: OrderStatus = OrderStatus.FILLED) -> EngineOrder:
    return EngineOrder(order_id=str(10**18 + i), client_oid=f"h{i}", symbol=symbol, side=Side.BUY,
                       order_type=OrderType.LIMIT, status=status, quantity=Decimal("0.01"), price=Decimal(40000),
                       create_time_ns=1_000 * i)


def test_history_pages_newest_first_with_start_inclusive_and_end_exclusive() -> None:
    eng = engine()
    eng.add_history([final(i) for i in range(250)])
    page = eng.history(start_ns=0, end_ns=250_000, limit=100)
    assert [o.create_time_ns for o in page] == [1_000 * i for i in range(249, 149, -1)]
    second = eng.history(start_ns=0, end_ns=page[-1].create_time_ns, limit=100)
    assert second[0].create_time_ns == 149_000 and len(second) == 100
    assert [o.create_time_ns for o in eng.history(start_ns=5_000, end_ns=8_000, limit=100)] == [7_000, 6_000, 5_000]
    assert len(eng.history(start_ns=0, end_ns=10**12, limit=500)) == 100            # limit is capped at 100
    assert eng.history(start_ns=8_000, end_ns=8_000, limit=10) == []


def test_history_holds_only_final_orders_and_filters_by_symbol() -> None:
    eng = engine()
    eng.add_history([final(1), final(2, "DOGE_USDT", OrderStatus.CANCELED), final(3, status=OrderStatus.REJECTED)])
    eng.place(now_ns=10, **limit("BUY", "0.01", "39000", "open"))
    done = eng.place(now_ns=20, **limit("BUY", "0.01", "38000", "done"))
    eng.cancel(order_id=done.order_id, now_ns=30)
    everything = eng.history(start_ns=0, end_ns=10**9, limit=100)
    assert [o.client_oid for o in everything] == ["h3", "h2", "h1", "done"]
    assert [o.client_oid for o in eng.history(start_ns=0, end_ns=10**9, limit=100, symbol="DOGE_USDT")] == ["h2"]


def test_history_of_100000_orders_pages_in_milliseconds() -> None:
    eng = engine()
    eng.add_history([final(i, "BTC_USDT" if i % 3 else "DOGE_USDT") for i in range(100_000)])
    started = time.perf_counter()
    end, pages, seen = 10**12, 0, 0
    while pages < 200:
        page = eng.history(start_ns=50_000_000, end_ns=end, limit=100, symbol="BTC_USDT")
        if not page:
            break
        seen += len(page)
        end, pages = page[-1].create_time_ns, pages + 1
    elapsed = time.perf_counter() - started
    assert seen == 20_000 and elapsed < 1.0, elapsed
