"""Small builders shared by the engine tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.domain.instrument import Instrument
from bot.exchange.engine import MatchingEngine

BTC = Instrument("BTC_USDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"), min_notional=Decimal(1))
DOGE = Instrument("DOGE_USDT", "DOGE", "USDT", Decimal("0.00001"), Decimal("1"), min_notional=Decimal(1))


def engine(usdt: str = "10000", btc: str = "1", price: str = "40000", **options: Any) -> MatchingEngine:
    eng = MatchingEngine({"BTC_USDT": BTC, "DOGE_USDT": DOGE}, {"USDT": Decimal(usdt), "BTC": Decimal(btc)},
                         maker_fee_percent=Decimal("0.25"), taker_fee_percent=Decimal("0.5"),
                         slippage_percent=Decimal("0.1"), **options)
    eng.set_price("BTC_USDT", Decimal(price), now_ns=1)
    eng.set_price("DOGE_USDT", Decimal("0.1"), now_ns=1)
    return eng


def limit(side: str, qty: str, price: str, oid: str, symbol: str = "BTC_USDT") -> dict[str, Any]:
    return dict(symbol=symbol, side=side, order_type="LIMIT", client_oid=oid, quantity=qty, price=price)


def trigger(side: str, kind: str, qty: str, at: str, oid: str, price: str | None = None) -> dict[str, Any]:
    return dict(symbol="BTC_USDT", side=side, order_type=kind, client_oid=oid, quantity=qty, trigger_price=at,
                price=price)
