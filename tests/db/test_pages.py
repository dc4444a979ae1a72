"""Keyset pages of the query layer: every row exactly once, in a stable order, whatever the ties,
with filters, and across rows arriving between two requests. Runs again on PostgreSQL."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.db.repositories import (
    InvalidCursor,
    OcoGroupRecord,
    OcoGroupRepository,
    OrderFilter,
    OrderRepository,
    Page,
    PortfolioRepository,
    SignalRepository,
    UserRepository,
    WatchlistEntry,
    WatchlistRepository,
)
from bot.db.repositories.signals import NewSignal
from bot.domain.orders import Order, OrderRole, OrderStatus, OrderType, Side

pytestmark = pytest.mark.storage
D = Decimal
NOON = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
NOON_NS = int(NOON.timestamp()) * 10**9


def order(n: int, *, status: OrderStatus = OrderStatus.ACTIVE, side: Side = Side.BUY, symbol: str = "BTC_USDT",
          create_time_ns: int = NOON_NS, filled: str = "0") -> Order:
    return Order(order_id=f"o{n}", client_oid=f"c{n}", symbol=symbol, side=side, order_type=OrderType.LIMIT,
                 status=status, quantity=D("0.01"), price=D(100000), filled_quantity=D(filled),
                 create_time_ns=create_time_ns)


async def store(repo: OrderRepository, *orders: Order) -> None:
    for o in orders:
        await repo.insert(o, role=OrderRole.ENTRY.value, source="bot", watched=True)


async def walk(fetch: Callable[[str | None], Awaitable[Page[Any]]], key: Callable[[Any], Any]) -> list[list[Any]]:
    """Every page from the first to the last, as lists of keys."""
    pages: list[list[Any]] = []
    cursor: str | None = None
    while True:
        page = await fetch(cursor)
        pages.append([key(item) for item in page.items])
        assert len(pages) < 100, "pagination does not end"
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


async def test_open_orders_sharing_one_timestamp_page_one_by_one_without_skips_or_repeats(db: str) -> None:
    repo = OrderRepository("paper")
    await store(repo, *(order(n) for n in range(45)))

    pages = await walk(lambda c: repo.open_page(cursor=c, limit=10), lambda r: r.exchange_order_id)

    assert [len(p) for p in pages] == [10, 10, 10, 10, 5]
    seen = [oid for page in pages for oid in page]
    assert seen == [f"o{n}" for n in reversed(range(45))]      # newest insert (highest id) first


async def test_open_orders_newest_first_by_exchange_time_then_id(db: str) -> None:
    repo = OrderRepository("paper")
    await store(repo, order(1, create_time_ns=NOON_NS + 5), order(2, create_time_ns=NOON_NS),
                order(3, create_time_ns=NOON_NS + 5), order(4, create_time_ns=NOON_NS + 9))

    pages = await walk(lambda c: repo.open_page(cursor=c, limit=3), lambda r: r.exchange_order_id)

    assert pages == [["o4", "o3", "o1"], ["o2"]]


async def test_a_page_is_stable_when_newer_orders_arrive_between_requests(db: str) -> None:
    repo = OrderRepository("paper")
    await store(repo, *(order(n) for n in range(6)))
    first = await repo.open_page(limit=3)

    await store(repo, *(order(n, create_time_ns=NOON_NS + 1) for n in range(100, 103)))
    second = await repo.open_page(cursor=first.next_cursor, limit=3)

    assert [r.exchange_order_id for r in first.items] == ["o5", "o4", "o3"]
    assert [r.exchange_order_id for r in second.items] == ["o2", "o1", "o0"]
    assert second.next_cursor is None


async def test_executed_orders_are_final_with_a_fill_and_filter_by_symbol_side_status_and_time(db: str) -> None:
    repo = OrderRepository("paper")
    hour = 3600 * 10**9
    await store(
        repo,
        order(1, status=OrderStatus.FILLED, filled="0.01", create_time_ns=NOON_NS),
        order(2, status=OrderStatus.CANCELED, filled="0.004", create_time_ns=NOON_NS + hour),
        order(3, status=OrderStatus.CANCELED, filled="0", create_time_ns=NOON_NS + hour),      # nothing executed
        order(4, status=OrderStatus.ACTIVE, filled="0.002", create_time_ns=NOON_NS + hour),    # still open
        order(5, status=OrderStatus.FILLED, filled="0.01", side=Side.SELL, create_time_ns=NOON_NS + 2 * hour),
        order(6, status=OrderStatus.FILLED, filled="0.01", symbol="ETH_USDT", create_time_ns=NOON_NS + 3 * hour),
    )

    async def ids(filters: OrderFilter | None = None) -> list[str]:
        return [r.exchange_order_id for r in (await repo.executed_page(filters, limit=50)).items]

    assert await ids() == ["o6", "o5", "o2", "o1"]
    assert await ids(OrderFilter(symbol="BTC_USDT")) == ["o5", "o2", "o1"]
    assert await ids(OrderFilter(side="sell")) == ["o5"]
    assert await ids(OrderFilter(status=OrderStatus.CANCELED)) == ["o2"]
    assert await ids(OrderFilter(since=NOON + timedelta(hours=1), until=NOON + timedelta(hours=3))) == ["o5", "o2"]
    assert [r.exchange_order_id for r in (await repo.open_page()).items] == ["o4"]
    with pytest.raises(ValueError):
        await ids(OrderFilter(status="SOLD"))


async def test_lists_never_mix_paper_and_live(db: str) -> None:
    await store(OrderRepository("live"), order(1))
    await store(OrderRepository("paper"), order(2))

    paper = await OrderRepository("paper").open_page()

    assert [r.exchange_order_id for r in paper.items] == ["o2"]


async def test_a_cursor_from_another_list_or_edited_is_refused(db: str) -> None:
    repo = OrderRepository("paper")
    await store(repo, *(order(n, status=OrderStatus.FILLED, filled="0.01") for n in range(3)))
    await store(repo, *(order(n) for n in range(10, 13)))
    executed = await repo.executed_page(limit=1)
    assert executed.next_cursor is not None

    with pytest.raises(InvalidCursor):
        await repo.open_page(cursor=executed.next_cursor)
    with pytest.raises(InvalidCursor):
        await repo.open_page(cursor="not-a-cursor")
    forged = base64.urlsafe_b64encode(json.dumps({"l": "orders.open", "k": [["int", "1"], 2]}).encode()).decode()
    with pytest.raises(InvalidCursor):
        await repo.open_page(cursor=forged)


async def test_limit_is_kept_between_one_and_the_maximum(db: str) -> None:
    repo = OrderRepository("paper")
    await store(repo, *(order(n) for n in range(120)))

    assert len((await repo.open_page(limit=0)).items) == 1
    assert len((await repo.open_page(limit=1000)).items) == 100
    assert len((await repo.open_page()).items) == 20


async def test_signals_sharing_one_decision_time_page_one_by_one(db: str) -> None:
    signals = SignalRepository()
    batch = [NewSignal(symbol="BTC_USDT" if n % 3 else "ETH_USDT", decision="WAIT", price=D(100 + n),
                       reasons=[], indicators={}, candle_time=None, decided_at=NOON) for n in range(25)]
    batch.append(NewSignal(symbol="BTC_USDT", decision="BUY", price=D(1), reasons=["rsi"], indicators={},
                           candle_time=None, decided_at=NOON + timedelta(seconds=1)))
    await signals.record(batch, {}, NOON)

    pages = await walk(lambda c: signals.page(cursor=c, limit=7), lambda s: s.price)
    btc = await walk(lambda c: signals.page(symbol="BTC_USDT", cursor=c, limit=5), lambda s: s.price)
    buys = await signals.page(decision="BUY")
    older = await signals.page(until=NOON + timedelta(seconds=1), limit=100)

    assert [len(p) for p in pages] == [7, 7, 7, 5]
    assert [p for page in pages for p in page] == [D(1), *(D(100 + n) for n in reversed(range(25)))]
    assert sorted(p for page in btc for p in page) == sorted([D(1), *(D(100 + n) for n in range(25) if n % 3)])
    assert [s.price for s in buys.items] == [D(1)]
    assert len(older.items) == 25


async def test_portfolio_history_pages_both_ways_and_between_dates(db: str) -> None:
    portfolio = PortfolioRepository("paper")
    for n in range(12):
        taken = NOON if n < 8 else NOON + timedelta(hours=n)      # eight snapshots share one time
        await portfolio.add(taken_at=taken, total_usd=D(1000 + n), unpriced_assets=[], positions=[])

    newest = await walk(lambda c: portfolio.page(cursor=c, limit=5), lambda s: s.total_usd)
    oldest = await walk(lambda c: portfolio.page(newest_first=False, cursor=c, limit=5), lambda s: s.total_usd)
    window = await portfolio.page(since=NOON + timedelta(hours=9), until=NOON + timedelta(hours=11))

    assert [t for page in newest for t in page] == [D(1000 + n) for n in reversed(range(12))]
    assert [t for page in oldest for t in page] == [D(1000 + n) for n in range(12)]
    assert [s.total_usd for s in window.items] == [D(1010), D(1009)]
    assert (await portfolio.latest()).total_usd == D(1011)   # type: ignore[union-attr]


async def test_watchlist_pages_in_symbol_order(db: str) -> None:
    for symbol in ("SOL_USDT", "BTC_USDT", "ETH_USDT", "ADA_USDT", "DOT_USDT"):
        await WatchlistEntry.create(symbol=symbol)

    pages = await walk(lambda c: WatchlistRepository().page(cursor=c, limit=2), lambda e: e.symbol)

    assert pages == [["ADA_USDT", "BTC_USDT"], ["DOT_USDT", "ETH_USDT"], ["SOL_USDT"]]


async def test_groups_created_together_page_by_id_and_filter_by_state(db: str) -> None:
    groups = OcoGroupRepository("paper")
    for n in range(9):
        await groups.create(f"g-{n:02d}", symbol="BTC_USDT", entry_exchange_order_id=f"e{n}",
                            state="closed" if n % 2 else "active", quantity=D(1), entry_price=D(1),
                            stop_loss_price=D(1), take_profit_price=D(2))
    await OcoGroupRecord.filter(mode="paper").update(created_at=NOON)      # one creation time for all

    pages = await walk(lambda c: groups.page(cursor=c, limit=4), lambda g: g.id)
    closed = await walk(lambda c: groups.page(states=["closed"], cursor=c, limit=3), lambda g: g.id)

    assert [g for page in pages for g in page] == [f"g-{n:02d}" for n in reversed(range(9))]
    assert closed == [["g-07", "g-05", "g-03"], ["g-01"]]


async def test_users_language_and_time_zone(db: str) -> None:
    users = UserRepository()
    await users.set_language(7, "es")
    await users.set_timezone(7, "Europe/Madrid")

    assert await users.language(7) == "es"
    assert await users.language(8) is None
    assert await users.languages([7, 8]) == {7: "es", 8: None}
    assert (await users.get(7)).timezone == "Europe/Madrid"      # type: ignore[union-attr]
    with pytest.raises(ValueError):
        await users.update(7, is_admin=True)
