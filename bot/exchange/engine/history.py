"""Final-state orders kept sorted by create time, so history queries are a bisect, not a scan.

The exchange's paging rule (private/get-order-history): start inclusive, end exclusive on
`create_time_ns`, newest first, at most 100 per page; the next page ends at the oldest
`create_time_ns` returned. With 100,000 stored orders a page costs O(log n + limit).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator

from bot.exchange.engine.order import EngineOrder

T = EngineOrder
MAX_PAGE = 100


def _key(order: T) -> tuple[int, int, str]:
    """Create time, then the order id (numeric ids compare by length first), so ties sort the same
    however the index was built."""
    return order.create_time_ns, len(order.order_id), order.order_id


class _SortedByTime:
    """Parallel lists: `keys` sorted ascending, `items` aligned with them."""

    def __init__(self) -> None:
        self.keys: list[tuple[int, int, str]] = []
        self.items: list[T] = []

    def add(self, item: T) -> None:
        key = _key(item)
        index = bisect_right(self.keys, key)
        self.keys.insert(index, key)
        self.items.insert(index, item)

    def extend(self, items: list[T]) -> None:
        self.items = sorted([*self.items, *items], key=_key)
        self.keys = [_key(o) for o in self.items]

    def page(self, start_ns: int, end_ns: int, limit: int, where: Callable[[T], bool] | None = None) -> list[T]:
        low = bisect_left(self.keys, (start_ns,))
        high = bisect_left(self.keys, (end_ns,))
        if where is None:
            first = max(low, high - limit)
            return self.items[first:high][::-1]
        found: list[T] = []
        for index in range(high - 1, low - 1, -1):
            if where(self.items[index]):
                found.append(self.items[index])
                if len(found) >= limit:
                    break
        return found


class FinalOrderIndex:
    """All final orders, and the same per symbol."""

    def __init__(self) -> None:
        self._all: _SortedByTime = _SortedByTime()
        self._by_symbol: dict[str, _SortedByTime] = {}

    def __len__(self) -> int:
        return len(self._all.items)

    def add(self, order: T) -> None:
        self._all.add(order)
        self._by_symbol.setdefault(order.symbol, _SortedByTime()).add(order)

    def extend(self, orders: list[T]) -> None:
        self._all.extend(orders)
        grouped: dict[str, list[T]] = {}
        for order in orders:
            grouped.setdefault(order.symbol, []).append(order)
        for symbol, items in grouped.items():
            self._by_symbol.setdefault(symbol, _SortedByTime()).extend(items)

    def page(self, *, start_ns: int, end_ns: int, limit: int, symbol: str | None = None,
             where: Callable[[T], bool] | None = None) -> list[T]:
        """Newest first; `limit` is clamped to 1..100 as the exchange does; `where` keeps only the
        orders one list shows (the regular or the advanced history)."""
        limit = max(1, min(int(limit), MAX_PAGE))
        source = self._all if symbol is None else self._by_symbol.get(symbol)
        if source is None or end_ns <= start_ns:
            return []
        return source.page(start_ns, end_ns, limit, where)

    def __iter__(self) -> Iterator[T]:
        return iter(self._all.items)
