"""The OCO group state machine and the ids derived from the entry order."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.domain.oco import (
    Fill,
    GroupEvent,
    GroupState,
    InvalidTransition,
    close_round_trip,
    closed_pnl,
    fee_in_quote,
    group_id_for_entry,
    leg_client_oid,
    next_state,
    sibling_role,
)
from bot.domain.orders import OrderRole


def test_group_id_is_the_same_for_the_same_buy_and_differs_per_mode() -> None:
    assert group_id_for_entry("paper", "main", "42") == group_id_for_entry("paper", "main", "42")
    assert group_id_for_entry("paper", "main", "42") != group_id_for_entry("live", "main", "42")
    assert len(group_id_for_entry("live", "main", "9" * 19)) <= 40


def test_leg_client_oids_are_deterministic_distinct_and_short() -> None:
    group = group_id_for_entry("live", "main", "1")
    stop, target = leg_client_oid(group, OrderRole.STOP_LOSS), leg_client_oid(group, OrderRole.TAKE_PROFIT)
    assert stop == leg_client_oid(group, "stop_loss")
    assert stop != target
    assert leg_client_oid(group, OrderRole.STOP_LOSS, 1) not in (stop, target)
    assert all(len(oid) <= 36 for oid in (stop, target, leg_client_oid(group, OrderRole.STOP_LOSS, 7)))


def test_placed_then_leg_filled_closes_the_group() -> None:
    state = next_state(GroupState.PLACING, GroupEvent.PLACED)
    assert state is GroupState.ACTIVE
    assert next_state(state, GroupEvent.LEG_FILLED) is GroupState.CLOSED
    assert next_state(GroupState.CLOSED, GroupEvent.LEG_FILLED) is GroupState.CLOSED   # repeated report


def test_second_leg_filling_is_the_both_filled_anomaly() -> None:
    assert next_state(GroupState.CLOSED, GroupEvent.SIBLING_FILLED) is GroupState.BOTH_FILLED


def test_a_failed_group_cannot_become_active() -> None:
    failed = next_state(GroupState.PLACING, GroupEvent.PLACEMENT_FAILED)
    assert failed.is_final
    with pytest.raises(InvalidTransition):
        next_state(failed, GroupEvent.PLACED)


def test_sibling_of_each_leg() -> None:
    assert sibling_role("stop_loss") is OrderRole.TAKE_PROFIT
    assert sibling_role(OrderRole.TAKE_PROFIT) is OrderRole.STOP_LOSS
    with pytest.raises(ValueError):
        sibling_role(OrderRole.ENTRY)


def test_pnl_of_a_take_profit_exit_subtracts_fees() -> None:
    result = closed_pnl(quantity=Decimal("0.01"), entry_price=Decimal(100000), exit_price=Decimal(103000),
                        fees_in_quote=Decimal("2.5"))
    assert result.pnl == Decimal("27.5")


def test_fee_conversion_by_currency() -> None:
    args = dict(base="BTC", quote="USDT", price=Decimal(100))
    assert fee_in_quote(Decimal("-0.5"), "USDT", **args) == Decimal("0.5")
    assert fee_in_quote(Decimal("0.01"), "BTC", **args) == Decimal("1.00")
    assert fee_in_quote(Decimal("3"), "CRO", **args) == 0


D = Decimal
TRIP = dict(entry_price=D(100000), base="BTC", quote="USDT")


def test_round_trip_of_a_take_profit_counts_both_fees_in_quote() -> None:
    take = Fill(D("0.01"), D(103000), fee=D("1.03"), fee_currency="USDT", cumulative_value=D(1030))
    entry = Fill(D("0.01"), D(100000), fee=D(1), fee_currency="USDT")

    trip = close_round_trip(legs=[take], closing_leg=take, entry=entry, **TRIP)

    assert (trip.quantity, trip.exit_price, trip.fees, trip.pnl) == (D("0.01"), D(103000), D("2.03"), D("27.97"))


def test_round_trip_averages_a_partly_filled_sibling_with_the_closing_leg() -> None:
    stop = Fill(D("0.004"), D(97000), cumulative_value=D(388))
    take = Fill(D("0.006"), D(103000), cumulative_value=D(618))

    trip = close_round_trip(legs=[stop, take], closing_leg=take, entry=None, **TRIP)

    assert trip.quantity == D("0.010")
    assert trip.exit_price == D("100600")
    assert trip.pnl == D("6.000")


def test_round_trip_charges_the_buy_fee_in_proportion_to_the_part_sold() -> None:
    take = Fill(D("0.005"), D(103000), cumulative_value=D(515))
    entry = Fill(D("0.01"), D(100000), fee=D("0.00001"), fee_currency="BTC")     # 1 USDT at the entry price

    trip = close_round_trip(legs=[take], closing_leg=take, entry=entry, **TRIP)

    assert trip.fees == D("0.5")
    assert trip.pnl == D("14.5")


def test_round_trip_without_mirrored_fills_uses_the_closing_leg() -> None:
    take = Fill(D(0), D(103000))
    closing = Fill(D("0.01"), D(103000))

    trip = close_round_trip(legs=[take], closing_leg=closing, entry=None, **TRIP)

    assert (trip.quantity, trip.exit_price, trip.pnl) == (D("0.01"), D(103000), D(30))
