"""The order stream's tracker reports each new state once, and never lets a late message (a push
that waited behind a poll, or a poll overtaken by the stream) take an order back in time."""

from __future__ import annotations

from decimal import Decimal

from bot.domain.orders import Order, OrderStatus, OrderType, Side
from bot.exchange.cryptocom.stream import OrderTracker

D = Decimal


def sell(status: OrderStatus, filled: str) -> Order:
    return Order(order_id="42", client_oid="tp", symbol="BTC_USDT", side=Side.SELL,
                 order_type=OrderType.TAKE_PROFIT_LIMIT, status=status, quantity=D(1), filled_quantity=D(filled))


def test_fills_only_move_forward_and_each_state_is_news_once() -> None:
    tracker = OrderTracker()
    assert tracker.changed(sell(OrderStatus.PENDING, "0"))
    assert not tracker.changed(sell(OrderStatus.PENDING, "0"))            # the same state again
    assert tracker.changed(sell(OrderStatus.ACTIVE, "0"))                 # triggered
    assert not tracker.changed(sell(OrderStatus.PENDING, "0"))            # a late push from before
    assert tracker.changed(sell(OrderStatus.ACTIVE, "0.5"))
    assert not tracker.changed(sell(OrderStatus.ACTIVE, "0.3"))           # older than what is known
    assert tracker.open["42"].filled_quantity == D("0.5")
    assert tracker.changed(sell(OrderStatus.FILLED, "1"))
    assert not tracker.changed(sell(OrderStatus.ACTIVE, "0.5"))           # a final state stays final
