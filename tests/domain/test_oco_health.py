"""OCO health as pure data: orphans, incomplete groups, quantity mismatches, both legs filled."""

from __future__ import annotations

from decimal import Decimal

from bot.domain.oco import GroupState
from bot.domain.oco_health import GroupView, LegView, assess
from bot.domain.orders import OrderStatus

D = Decimal


def group(gid: str, state: GroupState = GroupState.ACTIVE, qty: str = "1") -> GroupView:
    return GroupView(group_id=gid, symbol="BTC_USDT", state=state, quantity=D(qty),
                     stop_loss_client_oid=f"{gid}-sl", take_profit_client_oid=f"{gid}-tp")


def leg(gid: str | None, role: str, status: OrderStatus = OrderStatus.ACTIVE, qty: str = "1",
        filled: str = "0", oid: str | None = None) -> LegView:
    suffix = "sl" if role == "stop_loss" else "tp"
    return LegView(order_id=oid or f"{gid}-{suffix}-id", client_oid=f"{gid}-{suffix}", group_id=gid, role=role,
                   symbol="BTC_USDT", status=status, quantity=D(qty), filled_quantity=D(filled))


def test_healthy_group_reports_nothing() -> None:
    health = assess([group("a")], [leg("a", "stop_loss", OrderStatus.PENDING), leg("a", "take_profit")])
    assert health.ok and health.active_groups == 1


def test_leg_without_group_is_an_orphan() -> None:
    health = assess([], [leg(None, "stop_loss", oid="77")])
    assert [i.kind for i in health.issues] == ["orphan_leg"] and health.orphan_legs[0].order_ids == ("77",)


def test_open_leg_of_a_closed_group_is_an_orphan() -> None:
    health = assess([group("a", GroupState.CLOSED)],
                    [leg("a", "take_profit", OrderStatus.FILLED, filled="1"), leg("a", "stop_loss")])
    assert [i.kind for i in health.issues] == ["orphan_leg"]


def test_missing_leg_makes_the_group_incomplete() -> None:
    health = assess([group("a")], [leg("a", "stop_loss"), leg("a", "take_profit", OrderStatus.CANCELED)])
    assert [i.kind for i in health.issues] == ["incomplete_group"]
    assert "take-profit" in health.incomplete_groups[0].detail


def test_leg_quantity_differs_from_position() -> None:
    health = assess([group("a", qty="1")], [leg("a", "stop_loss", qty="0.5"), leg("a", "take_profit")])
    assert [i.kind for i in health.issues] == ["quantity_mismatch"]


def test_protection_larger_than_holdings_is_a_mismatch() -> None:
    health = assess([group("a", qty="2")], [leg("a", "stop_loss", qty="2"), leg("a", "take_profit", qty="2")],
                    held={"BTC": D(1)}, base_of={"BTC_USDT": "BTC"})
    assert [i.kind for i in health.issues] == ["quantity_mismatch"] and "only 1 BTC" in health.issues[0].detail


def test_both_legs_filled_is_reported() -> None:
    health = assess([group("a", GroupState.BOTH_FILLED)],
                    [leg("a", "stop_loss", OrderStatus.FILLED, filled="1"),
                     leg("a", "take_profit", OrderStatus.FILLED, filled="1")])
    assert [i.kind for i in health.issues] == ["both_filled"]
