"""Protection planning: prices from percentages with safe rounding, and never overselling."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.instrument import Instrument
from bot.domain.protection import (
    OpenSell,
    covered_quantity,
    plan_protection,
    protection_prices,
    remaining_for_sibling,
)

BTC = Instrument(symbol="BTC_USDT", base="BTC", quote="USDT", price_tick=Decimal("0.01"),
                 qty_tick=Decimal("0.00001"), min_notional=Decimal(1))


def test_default_three_percent_around_100000() -> None:
    prices = protection_prices(BTC, Decimal(100000), stop_loss_percent=Decimal(3), take_profit_percent=Decimal(3))
    assert prices.stop_loss == Decimal("97000.00")
    assert prices.take_profit == Decimal("103000.00")


def test_off_tick_prices_round_to_the_safe_side() -> None:
    coarse = Instrument(symbol="X_USDT", base="X", quote="USDT", price_tick=Decimal("0.5"), qty_tick=Decimal(1))
    prices = protection_prices(coarse, Decimal("10.3"), stop_loss_percent=Decimal(3), take_profit_percent=Decimal(3))
    assert prices.stop_loss == Decimal("9.5")        # 9.991 rounded down: triggers no earlier than asked
    assert prices.take_profit == Decimal("11.0")     # 10.609 rounded up: takes no less than asked


def test_full_fill_is_protected_when_free() -> None:
    plan = plan_protection(BTC, filled_quantity=Decimal("0.5"), entry_price=Decimal(100000),
                           free_quantity=Decimal("0.7"))
    assert plan.quantity == Decimal("0.5") and plan.missing_quantity == 0 and plan.shortfall_reason is None


def test_only_the_free_part_is_protected_and_the_locked_part_is_named() -> None:
    plan = plan_protection(BTC, filled_quantity=Decimal("1"), entry_price=Decimal(100000),
                           free_quantity=Decimal("0.6"), open_sells=[OpenSell("777", Decimal("0.4"))])
    assert plan.quantity == Decimal("0.6")
    assert plan.missing_quantity == Decimal("0.4")
    assert plan.shortfall_reason is not None and "777" in plan.shortfall_reason and "0.4" in plan.shortfall_reason


def test_nothing_free_places_nothing() -> None:
    plan = plan_protection(BTC, filled_quantity=Decimal("1"), entry_price=Decimal(100000),
                           free_quantity=Decimal(0))
    assert not plan.places_anything and plan.shortfall_reason


def test_below_minimum_notional_places_nothing_and_says_why() -> None:
    plan = plan_protection(BTC, filled_quantity=Decimal("0.00001"), entry_price=Decimal(50000),
                           free_quantity=Decimal(1))
    assert plan.quantity == 0 and "minimum" in (plan.shortfall_reason or "")


def test_a_group_counts_once_toward_coverage() -> None:
    sells = [OpenSell("1", Decimal("0.3"), "g"), OpenSell("2", Decimal("0.3"), "g"), OpenSell("3", Decimal("0.2"))]
    assert covered_quantity(sells) == Decimal("0.5")


def test_sibling_reduced_to_what_is_left() -> None:
    assert remaining_for_sibling(Decimal("1"), Decimal("0.3"), BTC) == Decimal("0.7")
    assert remaining_for_sibling(Decimal("1"), Decimal("1.2"), BTC) == 0


def test_bad_percentages_are_refused() -> None:
    with pytest.raises(ValueError):
        protection_prices(BTC, Decimal(1), stop_loss_percent=Decimal(100), take_profit_percent=Decimal(3))


@given(filled=st.decimals(min_value=Decimal("0.00001"), max_value=Decimal(100), places=8),
       free=st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=8))
def test_never_more_than_free_nor_bought(filled: Decimal, free: Decimal) -> None:
    plan = plan_protection(BTC, filled_quantity=filled, entry_price=Decimal(100000), free_quantity=free)
    assert plan.quantity <= free and plan.quantity <= filled
    assert plan.quantity % BTC.qty_tick == 0
    assert (plan.missing_quantity == 0) == (plan.shortfall_reason is None)
