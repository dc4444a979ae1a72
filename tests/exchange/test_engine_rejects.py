"""Every refusal the engine gives, with the crypto.com v1 code the exchange would answer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bot.exchange.codes import error_for_code
from bot.exchange.engine import EngineReject, MatchingEngine
from bot.exchange.errors import (
    DuplicateClientOrderId,
    InsufficientFunds,
    InvalidOrder,
    OrderNotFound,
    TooManyOpenOrders,
    TriggerEndpointRequired,
    UnknownInstrument,
)
from tests.exchange.engine_helpers import engine, limit, trigger


def rejected(eng: MatchingEngine, code: str, advanced: bool = True, **order: Any) -> EngineReject:
    with pytest.raises(EngineReject) as caught:
        eng.place(now_ns=10, advanced=advanced, **order)
    assert caught.value.code == code, caught.value.message
    return caught.value


@pytest.mark.parametrize(("code", "order"), [
    ("209", limit("BUY", "0.01", "39000", "x", symbol="NOPE_USDT")),
    ("220", {**limit("BUY", "0.01", "39000", "x"), "side": "HOLD"}),
    ("218", {**limit("BUY", "0.01", "39000", "x"), "order_type": "ICEBERG"}),
    ("213", limit("BUY", "0", "39000", "x")),
    ("213", limit("BUY", "-0.01", "39000", "x")),
    ("213", limit("BUY", "0.000001", "39000", "x")),          # finer than the 0.00001 step
    ("213", limit("BUY", "abc", "39000", "x")),
    ("308", limit("BUY", "0.01", "39000.001", "x")),          # off the 0.01 tick
    ("308", limit("BUY", "0.01", "0", "x")),
    ("308", {**limit("BUY", "0.01", "39000", "x"), "price": None}),
    ("415", limit("BUY", "0.00001", "39000", "x")),           # 0.39 USDT < 1 USDT minimum
    ("306", limit("BUY", "1", "39000", "x")),                 # 39,000 USDT needed, 10,000 held
    ("306", limit("SELL", "2", "41000", "x")),                # 2 BTC to sell, 1 held
    ("229", trigger("SELL", "STOP_LOSS", "0.01", "41000", "x")),        # a sell stop above the market
    ("229", trigger("SELL", "STOP_LIMIT", "0.01", "40000", "x", "39900")),   # at the market is not below it
    ("229", trigger("SELL", "TAKE_PROFIT", "0.01", "39000", "x")),      # a sell take-profit below
    ("229", trigger("BUY", "STOP_LOSS", "0.01", "39000", "x")),         # a buy stop below
    ("229", trigger("BUY", "TAKE_PROFIT_LIMIT", "0.01", "41000", "x", "41000")),
    ("229", {**trigger("SELL", "STOP_LOSS", "0.01", "39000", "x"), "trigger_price": None}),
    ("308", trigger("SELL", "STOP_LOSS", "0.01", "39000.005", "x")),
])
def test_invalid_orders_are_refused_with_the_exchanges_code(code: str, order: dict[str, Any]) -> None:
    eng = engine()
    rejected(eng, code, **order)
    assert eng.open_orders() == []
    assert eng.balances()["USDT"] == (Decimal(10000), Decimal(0))


def test_trigger_type_on_the_plain_endpoint_is_140001() -> None:
    eng = engine()
    rejected(eng, "140001", advanced=False, **trigger("SELL", "STOP_LOSS", "0.01", "39000", "x"))
    assert isinstance(error_for_code("140001"), TriggerEndpointRequired)
    placed = eng.place(now_ns=10, advanced=True, **trigger("SELL", "STOP_LOSS", "0.01", "39000", "x"))
    assert placed.status.value == "PENDING"


def test_duplicate_client_oid_is_204_even_after_the_first_order_ended() -> None:
    eng = engine()
    first = eng.place(now_ns=10, **limit("BUY", "0.01", "39000", "same"))
    rejected(eng, "204", **limit("BUY", "0.01", "38000", "same"))
    eng.cancel(order_id=first.order_id, now_ns=11)
    rejected(eng, "204", **limit("BUY", "0.01", "38000", "same"))


def test_open_order_caps_are_318() -> None:
    eng = engine(max_open_per_symbol=3, max_open_total=4)
    for i in range(3):
        eng.place(now_ns=10, **limit("BUY", "0.01", str(30000 + i), f"b{i}"))
    rejected(eng, "318", **limit("BUY", "0.01", "30010", "b3"))
    eng.place(now_ns=10, **limit("BUY", "100", "0.09", "d1", symbol="DOGE_USDT"))
    rejected(eng, "318", **limit("BUY", "100", "0.09", "d2", symbol="DOGE_USDT"))   # 4 open in total
    assert isinstance(error_for_code("318"), TooManyOpenOrders)


def test_free_balance_counts_what_open_orders_lock() -> None:
    eng = engine()
    eng.place(now_ns=10, **limit("BUY", "0.2", "39000", "a"))     # locks 7,800 USDT + fee headroom
    rejected(eng, "306", **limit("BUY", "0.06", "39000", "b"))    # 2,340 more does not fit
    eng.place(now_ns=10, **limit("SELL", "0.9", "45000", "c"))
    rejected(eng, "306", **limit("SELL", "0.2", "46000", "d"))    # only 0.1 BTC is free


def test_cancel_unknown_is_212_and_cancel_of_a_finished_order_is_316() -> None:
    eng = engine()
    with pytest.raises(EngineReject) as unknown:
        eng.cancel(order_id="123", now_ns=10)
    assert unknown.value.code == "212"
    order = eng.place(now_ns=10, **limit("BUY", "0.01", "39000", "a"))
    eng.cancel(client_oid="a", now_ns=11)
    with pytest.raises(EngineReject) as again:
        eng.cancel(order_id=order.order_id, now_ns=12)
    assert again.value.code == "316"
    assert isinstance(error_for_code("212"), OrderNotFound) and isinstance(error_for_code("316"), OrderNotFound)


def test_codes_map_to_the_projects_exceptions() -> None:
    assert isinstance(error_for_code("204"), DuplicateClientOrderId)
    assert isinstance(error_for_code("209"), UnknownInstrument)
    assert isinstance(error_for_code("306"), InsufficientFunds)
    for code in ("213", "218", "220", "229", "308", "415"):
        assert isinstance(error_for_code(code), InvalidOrder)


def test_post_only_that_would_cross_is_refused() -> None:
    eng = engine()
    rejected(eng, "43005", post_only=True, **limit("BUY", "0.01", "40500", "x"))
