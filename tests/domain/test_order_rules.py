"""Each automatic-order rule refuses with its reason; a candidate that passes them all is allowed."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from bot.domain.order_rules import OrderCandidate, RuleLimits, first_refusal

LIMITS = RuleLimits()
PASSING = OrderCandidate(symbol="ETH_USDT", price=Decimal(3000), cost=Decimal("100.5"), trade_enabled=True,
                         open_buy_prices=(Decimal(3200),), last_order_price=Decimal(3200), free_quote=Decimal(1000))


def test_a_candidate_that_passes_every_rule_is_allowed() -> None:
    assert first_refusal(PASSING, LIMITS) is None


@pytest.mark.parametrize(("change", "rule", "detail"), [
    ({"trade_enabled": False}, "trade_disabled", "Trade is NO for ETH_USDT"),
    ({"open_buy_prices": (Decimal(1), Decimal(2), Decimal(3))}, "max_open_per_symbol",
     "3 open buy orders on ETH_USDT (limit 3)"),
    ({"open_buy_prices": (Decimal(3000),), "last_order_price": Decimal(4000)}, "duplicate_price",
     "an open buy on ETH_USDT is already at 3000"),
    ({"last_order_price": Decimal(3050)}, "min_price_move", "price moved 1.64 % after the last order at 3050"),
    ({"free_quote": Decimal(100)}, "insufficient_balance", "needs 100.5 USDT, free 100 USDT"),
])
def test_each_rule_refuses_with_its_reason(change: dict, rule: str, detail: str) -> None:
    refusal = first_refusal(replace(PASSING, **change), LIMITS)
    assert refusal is not None and refusal.rule == rule and refusal.detail.startswith(detail)


def test_exactly_three_percent_is_enough_and_thresholds_are_per_coin() -> None:
    moved_3 = replace(PASSING, price=Decimal(3090), last_order_price=Decimal(3000))
    assert first_refusal(moved_3, LIMITS) is None
    assert first_refusal(moved_3, RuleLimits(min_price_move_percent=Decimal(5))).rule == "min_price_move"
    four_open = replace(PASSING, open_buy_prices=(Decimal(1), Decimal(2), Decimal(4)))
    assert first_refusal(four_open, RuleLimits(max_open_per_symbol=5)) is None
