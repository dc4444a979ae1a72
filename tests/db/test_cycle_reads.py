"""The reads every sync cycle makes of the groups and their legs: what a crash or a failure left
undone, found among few rows however much history is stored."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.db.models import OcoGroupRecord, OrderRecord
from bot.db.repositories import OcoGroupRepository, OrderRepository

pytestmark = pytest.mark.storage
D = Decimal
MODE = "paper"


async def order(order_id: str, *, role: str, status: str, group: str | None = None, mode: str = MODE) -> None:
    await OrderRecord.create(mode=mode, exchange_order_id=order_id, client_oid=f"c-{order_id}", symbol="BTC_USDT",
                             side="SELL", order_type="LIMIT", status=status, role=role, quantity=D(1),
                             price=D(100), oco_group_id=group)


async def group(group_id: str, state: str, *, mode: str = MODE) -> None:
    await OcoGroupRecord.create(id=group_id, mode=mode, symbol="BTC_USDT", state=state, quantity=D(1),
                                entry_price=D(100), stop_loss_price=D(97), take_profit_price=D(103))


async def test_ended_legs_of_active_groups_are_only_those_a_reaction_left_undone(db: str) -> None:
    # given: active groups with an ended leg, an active group whose legs are open, closed groups
    # whose legs ended long ago, and an active group of another mode
    await group("g-tp", "active")
    await group("g-both-open", "active")
    await group("g-cut", "active")
    await group("g-closed", "closed")
    await group("g-live", "active", mode="live")
    await order("1", role="stop_loss", status="ACTIVE", group="g-tp")
    await order("2", role="take_profit", status="FILLED", group="g-tp")
    await order("3", role="stop_loss", status="ACTIVE", group="g-both-open")
    await order("4", role="take_profit", status="ACTIVE", group="g-both-open")
    await order("5", role="stop_loss", status="CANCELED", group="g-cut")
    await order("6", role="take_profit", status="FILLED", group="g-closed")
    await order("7", role="stop_loss", status="CANCELED", group="g-closed")
    await order("8", role="take_profit", status="FILLED", group="g-live", mode="live")
    await order("9", role="entry", status="FILLED")
    # when
    ended = await OrderRepository(MODE).ended_legs_of_active_groups()
    # then: in the order they were stored
    assert [o.exchange_order_id for o in ended] == ["2", "5"]


async def test_no_active_group_means_no_ended_leg_to_catch_up(db: str) -> None:
    await group("g-closed", "closed")
    await order("1", role="take_profit", status="FILLED", group="g-closed")
    assert await OrderRepository(MODE).ended_legs_of_active_groups() == []


async def test_groups_in_a_state_are_found_among_many_closed_ones(db: str) -> None:
    for i in range(20):
        await group(f"g-old-{i}", "closed")
    await group("g-placing", "placing")
    await group("g-active", "active")
    await group("g-live", "placing", mode="live")
    groups = OcoGroupRepository(MODE)
    assert [g.id for g in await groups.in_states(["placing"])] == ["g-placing"]
    assert sorted(g.id for g in await groups.in_states(["placing", "active"])) == ["g-active", "g-placing"]
