"""The fill model on set prices: limits, markets, triggers, fees, lists, partial fills, listeners, state."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bot.domain.orders import OrderStatus
from bot.exchange.base import Candle
from bot.exchange.engine import EngineOrder, EngineReject, MatchingEngine
from tests.exchange.engine_helpers import BTC, DOGE, engine, limit, trigger

D = Decimal


def test_resting_limit_buy_fills_at_its_price_as_maker_when_the_market_reaches_it() -> None:
    eng = engine()
    order = eng.place(now_ns=10, **limit("BUY", "0.1", "39000", "a"))
    assert eng.set_price("BTC_USDT", D("39000.01"), now_ns=11) == []
    changed = eng.set_price("BTC_USDT", D("38500"), now_ns=12)
    assert changed == [order] and order.status is OrderStatus.FILLED
    assert order.avg_price == D(39000) and order.fee == D("3900") * D("0.0025")
    assert eng.balances()["BTC"] == (D("1.1"), D(0))
    assert eng.balances()["USDT"] == (D(10000) - D(3900) - D("9.75"), D(0))


def test_crossing_limit_fills_at_once_as_taker_at_the_better_price() -> None:
    eng = engine()
    order = eng.place(now_ns=10, **limit("BUY", "0.1", "40500", "a"))
    assert order.status is OrderStatus.FILLED and order.avg_price == D(40000)
    assert order.fee == D(4000) * D("0.005")
    sell = eng.place(now_ns=10, **limit("SELL", "0.1", "39000", "b"))
    assert sell.avg_price == D(40000)


def test_market_orders_fill_at_last_price_with_adverse_slippage() -> None:
    eng = engine()
    buy = eng.place(now_ns=10, symbol="BTC_USDT", side="BUY", order_type="MARKET", client_oid="m1",
                    quantity="0.1")
    assert buy.status is OrderStatus.FILLED and buy.avg_price == D(40040)
    sell = eng.place(now_ns=10, symbol="BTC_USDT", side="SELL", order_type="MARKET", client_oid="m2",
                     quantity="0.1")
    assert sell.avg_price == D(39960)


def test_market_buy_by_notional_spends_at_most_the_notional_fee_included() -> None:
    eng = engine()
    buy = eng.place(now_ns=10, symbol="BTC_USDT", side="BUY", order_type="MARKET", client_oid="m",
                    notional="1000")
    assert buy.status is OrderStatus.FILLED
    assert buy.cumulative_value + buy.fee <= D(1000)
    assert buy.quantity == D("0.02485")                   # floor(1000 / (40040 * 1.005)) on 0.00001


def test_stop_loss_fires_at_the_trigger_and_fills_there_with_slippage() -> None:
    eng = engine()
    stop = eng.place(now_ns=10, advanced=True, **trigger("SELL", "STOP_LOSS", "0.5", "38000", "sl"))
    eng.set_price("BTC_USDT", D("38000.01"), now_ns=11)
    assert stop.status is OrderStatus.PENDING
    eng.set_price("BTC_USDT", D("37000"), now_ns=12)
    assert stop.status is OrderStatus.FILLED and stop.avg_price == D(38000) * D("0.999")


def test_stop_limit_rests_as_a_limit_at_its_price_after_the_trigger() -> None:
    eng = engine()
    order = eng.place(now_ns=10, advanced=True, **trigger("BUY", "STOP_LIMIT", "0.1", "41000", "sl", "40900"))
    eng.set_price("BTC_USDT", D("41500"), now_ns=11)           # triggers; 40,900 is below the market
    assert order.status is OrderStatus.ACTIVE and order.triggered
    eng.set_price("BTC_USDT", D("40800"), now_ns=12)
    assert order.status is OrderStatus.FILLED and order.avg_price == D(40900)


def test_take_profit_limit_fills_when_price_rises_through_it() -> None:
    eng = engine()
    order = eng.place(now_ns=10, advanced=True, **trigger("SELL", "TAKE_PROFIT_LIMIT", "0.1", "42000", "tp",
                                                           "42000"))
    eng.set_price("BTC_USDT", D("42500"), now_ns=11)
    assert order.status is OrderStatus.FILLED and order.avg_price == D(42000)


def oco(eng: MatchingEngine, qty: str = "0.5") -> tuple[str, list[EngineOrder]]:
    return eng.place_oco([limit("SELL", qty, "42000", "tp"), trigger("SELL", "STOP_LOSS", qty, "38000", "sl")],
                         now_ns=10)


def test_oco_locks_once_and_a_filled_leg_cancels_the_other() -> None:
    eng = engine()
    list_id, (tp, sl) = oco(eng)
    assert tp.list_id == sl.list_id == list_id and tp.contingency_type == "OCO"
    assert eng.balances()["BTC"] == (D(1), D("0.5"))
    eng.set_price("BTC_USDT", D("42100"), now_ns=11)
    assert tp.status is OrderStatus.FILLED
    assert sl.status is OrderStatus.CANCELED and sl.reason == "OCO"
    assert eng.balances()["BTC"] == (D("0.5"), D(0))


def test_oco_stop_leg_fill_cancels_the_limit_leg() -> None:
    eng = engine()
    _, (tp, sl) = oco(eng)
    eng.set_price("BTC_USDT", D("37900"), now_ns=11)
    assert sl.status is OrderStatus.FILLED and tp.status is OrderStatus.CANCELED and tp.reason == "OCO"
    assert eng.balances()["BTC"] == (D("0.5"), D(0))


def test_oco_partial_fill_shrinks_the_sibling_then_the_rest_ends_the_pair() -> None:
    eng = engine()
    _, (tp, sl) = oco(eng)
    eng.fill_partially(tp.order_id, D("0.2"), now_ns=11)
    assert tp.status is OrderStatus.ACTIVE and tp.filled_quantity == D("0.2") and tp.remaining == D("0.3")
    assert sl.quantity == D("0.3") and sl.status is OrderStatus.PENDING
    assert eng.balances()["BTC"] == (D("0.8"), D("0.3"))
    eng.set_price("BTC_USDT", D("37000"), now_ns=12)
    assert sl.status is OrderStatus.FILLED and sl.filled_quantity == D("0.3")
    assert tp.status is OrderStatus.CANCELED and tp.filled_quantity == D("0.2")
    assert eng.balances()["BTC"] == (D("0.5"), D(0))


def test_cancel_list_and_cancel_of_one_leg_end_the_whole_oco() -> None:
    eng = engine()
    list_id, _ = oco(eng)
    assert {o.status for o in eng.cancel_list(list_id, now_ns=11)} == {OrderStatus.CANCELED}
    with pytest.raises(EngineReject) as again:
        eng.cancel_list(list_id, now_ns=12)
    assert again.value.code == "316"
    eng2 = engine()
    _, (tp, sl) = oco(eng2)
    eng2.cancel(order_id=sl.order_id, now_ns=11)
    assert tp.status is OrderStatus.CANCELED and eng2.balances()["BTC"] == (D(1), D(0))


def test_oco_needs_one_limit_and_one_trigger_leg() -> None:
    eng = engine()
    with pytest.raises(EngineReject) as bad:
        eng.place_oco([limit("SELL", "0.1", "42000", "a"), limit("SELL", "0.1", "43000", "b")], now_ns=10)
    assert bad.value.code == "218"
    with pytest.raises(EngineReject) as wrong_side:
        eng.place_oco([limit("SELL", "0.1", "42000", "a"), trigger("SELL", "STOP_LOSS", "0.1", "41000", "b")],
                      now_ns=10)
    assert wrong_side.value.code == "229" and eng.open_orders() == []


def otoco(eng: MatchingEngine, entry_price: str = "39000") -> list[EngineOrder]:
    _, legs = eng.place_otoco([limit("BUY", "0.1", entry_price, "e"),
                               trigger("SELL", "STOP_LOSS", "0.1", "37000", "sl"),
                               trigger("SELL", "TAKE_PROFIT_LIMIT", "0.1", "42000", "tp", "42000")], now_ns=10)
    return legs


def test_otoco_exits_wait_for_the_entry_then_behave_as_an_oco() -> None:
    eng = engine(btc="0")
    entry, sl, tp = otoco(eng)
    assert sl.status is OrderStatus.PENDING and sl.waiting_for == entry.order_id
    eng.set_price("BTC_USDT", D("36000"), now_ns=11)       # would fire the stop, but the entry is not filled...
    assert entry.status is OrderStatus.FILLED              # ...it fills on the way down at 39,000
    assert sl.status is OrderStatus.FILLED                 # and the now-live stop fires on the same move
    assert tp.status is OrderStatus.CANCELED and tp.reason == "OTOCO"
    assert eng.balances()["BTC"] == (D(0), D(0))


def test_otoco_exits_do_not_trade_before_a_full_entry_fill() -> None:
    eng = engine(btc="0")
    entry, sl, tp = otoco(eng)
    eng.fill_partially(entry.order_id, D("0.04"), now_ns=11)
    eng.set_price("BTC_USDT", D("43000"), now_ns=12)
    assert tp.status is OrderStatus.PENDING and sl.status is OrderStatus.PENDING
    eng.set_price("BTC_USDT", D("38000"), now_ns=13)        # the entry's remaining 0.06 fills at 39,000
    assert entry.status is OrderStatus.FILLED and eng.balances()["BTC"] == (D("0.1"), D("0.1"))
    eng.set_price("BTC_USDT", D("42500"), now_ns=14)
    assert tp.status is OrderStatus.FILLED and sl.status is OrderStatus.CANCELED


def test_cancelling_the_otoco_entry_cancels_its_exits() -> None:
    eng = engine(btc="0")
    entry, sl, tp = otoco(eng)
    eng.cancel(order_id=entry.order_id, now_ns=11)
    assert {sl.status, tp.status} == {OrderStatus.CANCELED}
    assert eng.balances()["USDT"] == (D(10000), D(0))


def test_listeners_hear_every_change() -> None:
    eng = engine()
    heard: list[tuple[str, OrderStatus]] = []
    eng.listeners.append(lambda o: heard.append((o.client_oid, o.status)))
    oco(eng)
    eng.set_price("BTC_USDT", D("43000"), now_ns=11)
    assert heard == [("tp", OrderStatus.ACTIVE), ("sl", OrderStatus.PENDING), ("tp", OrderStatus.FILLED),
                     ("sl", OrderStatus.CANCELED)]


def test_balances_never_go_negative_when_everything_fills() -> None:
    eng = engine(usdt="1000", btc="0")
    for i in range(5):
        eng.place(now_ns=10, **limit("BUY", "0.00495", str(39900 - i * 100), f"b{i}"))
    eng.set_price("BTC_USDT", D("30000"), now_ns=11)
    total, locked = eng.balances()["USDT"]
    assert total >= 0 and locked == 0
    with pytest.raises(EngineReject):
        eng.place(now_ns=12, **limit("BUY", "0.1", "30000", "more"))


def test_candle_older_than_the_order_does_not_fill_it() -> None:
    eng = engine()
    order = eng.place(now_ns=3_600_000_000_000, **limit("BUY", "0.1", "39000", "a"))
    eng.apply_candle("BTC_USDT", Candle(0, D(40000), D(40100), D(38000), D(40000), D(1)), now_ns=3_600_000_000_001)
    assert order.status is OrderStatus.ACTIVE
    later = Candle(3_600_000, D(40000), D(40100), D(38000), D(40000), D(1))
    eng.apply_candle("BTC_USDT", later, now_ns=7_200_000_000_000)
    assert order.status is OrderStatus.FILLED


def test_snapshot_round_trip_is_json_and_identical() -> None:
    eng = engine()
    oco(eng)
    eng.place(now_ns=10, **limit("BUY", "0.01", "39000", "b"))
    eng.place(now_ns=10, **limit("BUY", "100", "0.09", "d", symbol="DOGE_USDT"))
    eng.set_price("BTC_USDT", D("38000"), now_ns=11)
    data = json.loads(json.dumps(eng.snapshot()))
    back = MatchingEngine.restore(data, {"BTC_USDT": BTC, "DOGE_USDT": DOGE})
    assert back.balances() == eng.balances()
    assert [o.to_dict() for o in back.open_orders()] == [o.to_dict() for o in eng.open_orders()]
    assert back.history(start_ns=0, end_ns=100, limit=100)[0].to_dict() == \
        eng.history(start_ns=0, end_ns=100, limit=100)[0].to_dict()
    assert back.place(now_ns=20, **limit("BUY", "0.01", "37000", "c")).order_id not in {
        o.order_id for o in eng.open_orders()}
