"""Protect and cancel actions: a preview with the exact numbers, then one confirmation by its owner,
within 5 minutes, placing (or canceling) exactly once. Against the simulator through the live adapter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.db.models import OcoGroupRecord, PendingAction, User
from bot.domain.actions import ActionKind, ActionRefused, Outcome
from bot.domain.oco import GroupState, leg_client_oid
from bot.domain.orders import OrderRole, OrderStatus, OrderType, Side
from bot.exchange.base import OrderRequest
from bot.services.actions import ActionService
from bot.services.portfolio import PortfolioService
from bot.services.user_settings import SettingDefaults, UserSettingsService
from tests.clocks import SetClock
from tests.services.sim_exchange import SimulatedExchange, simulated_exchange
from tests.services.sync_harness import Harness, build

pytestmark = pytest.mark.sync
D = Decimal
OWNER, OTHER, STRANGER = 11, 22, 99


def settings() -> UserSettingsService:
    return UserSettingsService(SettingDefaults())


@dataclass
class World:
    exchange: SimulatedExchange
    h: Harness
    actions: ActionService
    clock: SetClock[datetime]

    def creates(self) -> int:
        return sum(self.exchange.exchange_calls(m) for m in (
            "private/advanced/create-oco", "private/advanced/create-order", "private/create-order"))


@pytest.fixture(params=[True, False], ids=["native_oco", "linked_legs"])
async def world(request: Any, db: str) -> AsyncIterator[World]:
    """0.5 BTC held before the bot began watching: unprotected, BTC_USDT at 100,500."""
    async with simulated_exchange({"USDT": D(100000), "BTC": D("0.5")}, native_oco=request.param) as exchange:
        h = build(exchange)
        await h.sync.run_cycle()
        clock = SetClock(datetime(2026, 12, 5, 8, 0, tzinfo=UTC))
        actions = ActionService(exchange, h.protection, PortfolioService(h.repo.mode), settings(),
                                allowed_users=[OWNER, OTHER], mirror=h.sync.ingest, clock=clock)
        yield World(exchange, h, actions, clock)


async def test_protect_preview_shows_the_exact_order_and_confirm_places_it_once(world: World) -> None:
    preview = await world.actions.preview_protect(OWNER, "BTC")
    p = preview.protect
    assert p is not None and preview.kind is ActionKind.PROTECT and preview.mode == "live"
    # No buy on record: around the current price, 3 % each way, rounded to the 0.01 tick the safe way.
    assert (p.symbol, p.quantity, p.reference, p.reference_price) == ("BTC_USDT", D("0.5"), "market", D(100500))
    assert (p.stop_loss, p.take_profit) == (D("97485.00"), D("103515.00"))
    assert world.creates() == 0                                     # a preview sends nothing

    first = await world.actions.confirm(preview.action_id, OWNER)
    assert first.outcome is Outcome.DONE and first.group_id == preview.action_id
    again = await world.actions.confirm(preview.action_id, OWNER)
    assert again.outcome is Outcome.ALREADY_DONE and again.group_id == preview.action_id
    group = await OcoGroupRecord.get(id=preview.action_id)
    assert group.state == GroupState.ACTIVE and group.quantity == D("0.5")
    assert (group.native_list_id is not None) is first.native_oco
    # The action id names the legs, and each exists once on the exchange.
    oids = [leg_client_oid(preview.action_id, role) for role in (OrderRole.STOP_LOSS, OrderRole.TAKE_PROFIT)]
    assert sorted(o.client_oid or "" for o in world.exchange.orders.values()) == sorted(oids)
    assert world.creates() == (1 if first.native_oco else 3)     # linked: the refused native try, then 2 legs
    assert not await world.actions.portfolio.unprotected()       # read back at once, no sync needed

    # The exchange refused a native OCO: the next preview says two linked legs will be used.
    world.exchange.set_price("BTC_USDT", D(100500))
    assert first.native_oco is world.actions.protection.native_oco_expected


async def test_two_devices_confirming_at_once_place_one_protection(world: World) -> None:
    preview = await world.actions.preview_protect(OWNER, "BTC_USDT")
    results = await asyncio.gather(*(world.actions.confirm(preview.action_id, OWNER) for _ in range(3)))
    outcomes = sorted(r.outcome.value for r in results)
    assert outcomes.count(Outcome.DONE.value) == 1
    assert set(outcomes) <= {Outcome.DONE.value, Outcome.IN_PROGRESS.value, Outcome.ALREADY_DONE.value}
    assert await OcoGroupRecord.filter(symbol="BTC_USDT").count() == 1
    assert len(world.exchange.orders) == 2                     # one stop-loss, one take-profit


async def test_an_expired_confirmation_says_so_and_places_nothing(world: World) -> None:
    preview = await world.actions.preview_protect(OWNER, "BTC")
    world.clock.now += timedelta(minutes=5, seconds=1)
    result = await world.actions.confirm(preview.action_id, OWNER)
    assert result.outcome is Outcome.EXPIRED and result.action == preview
    assert world.creates() == 0 and await OcoGroupRecord.all().count() == 0


async def test_someone_elses_action_is_refused_and_nothing_is_shown_or_done(world: World) -> None:
    preview = await world.actions.preview_protect(OWNER, "BTC")
    result = await world.actions.confirm(preview.action_id, OTHER)
    assert result.outcome is Outcome.FOREIGN and result.action is None
    assert (await world.actions.dismiss(preview.action_id, OTHER)).outcome is Outcome.FOREIGN
    assert await world.actions.get(preview.action_id, OTHER) is None
    assert world.creates() == 0
    assert (await world.actions.confirm(preview.action_id, OWNER)).outcome is Outcome.DONE   # still the owner's


async def test_a_stranger_cannot_preview_or_confirm(world: World) -> None:
    with pytest.raises(ActionRefused) as refused:
        await world.actions.preview_protect(STRANGER, "BTC")
    assert refused.value.key == "not_allowed"
    preview = await world.actions.preview_protect(OWNER, "BTC")
    assert (await world.actions.confirm(preview.action_id, STRANGER)).outcome is Outcome.FOREIGN
    assert (await world.actions.confirm("a-nope", OWNER)).outcome is Outcome.NOT_FOUND


async def test_a_dismissed_preview_cannot_be_confirmed(world: World) -> None:
    preview = await world.actions.preview_protect(OWNER, "BTC")
    assert (await world.actions.dismiss(preview.action_id, OWNER)).outcome is Outcome.DISMISSED
    assert (await world.actions.confirm(preview.action_id, OWNER)).outcome is Outcome.DISMISSED
    assert world.creates() == 0


async def test_a_run_cut_off_by_a_crash_is_finished_by_the_next_press_without_a_second_order(world: World) -> None:
    preview = await world.actions.preview_protect(OWNER, "BTC")
    assert (await world.actions.confirm(preview.action_id, OWNER)).outcome is Outcome.DONE
    placed = world.creates()
    # As if the process died after placing and before recording the result.
    await PendingAction.filter(id=preview.action_id).update(state="running", decided_at=world.clock.now)
    assert (await world.actions.confirm(preview.action_id, OWNER)).outcome is Outcome.IN_PROGRESS
    world.clock.now += timedelta(minutes=3)
    assert (await world.actions.confirm(preview.action_id, OWNER)).outcome is Outcome.DONE
    assert world.creates() == placed


async def bought_before_watching(db: str, price: str) -> AsyncIterator[World]:
    """0.1 BTC bought at 100,000 before the bot began watching (so nothing protected it), the market at `price`."""
    async with simulated_exchange({"USDT": D(100000)}) as exchange:
        await exchange.create_order(OrderRequest(symbol="BTC_USDT", side=Side.BUY, order_type=OrderType.LIMIT,
                                                 client_oid="hand-buy", quantity=D("0.1"), price=D(100000)))
        exchange.set_price("BTC_USDT", D(100000))
        h = build(exchange)
        await h.sync.run_cycle()
        exchange.set_price("BTC_USDT", D(price))
        await h.sync.run_cycle()
        clock = SetClock(datetime(2026, 12, 5, 8, 0, tzinfo=UTC))
        yield World(exchange, h, ActionService(exchange, h.protection, PortfolioService(h.repo.mode), settings(),
                                               allowed_users=[OWNER], mirror=h.sync.ingest, clock=clock), clock)


async def test_the_users_default_percentages_and_the_last_buys_price_set_the_levels(db: str) -> None:
    await User.create(telegram_id=OWNER, default_stop_loss_percent=D(5), default_take_profit_percent=D(10))
    async for world in bought_before_watching(db, "101000"):
        preview = await world.actions.preview_protect(OWNER, "BTC")
        p = preview.protect
        assert p is not None and p.quantity == D("0.1")
        assert (p.reference, p.reference_price) == ("entry", D(100000))
        assert (p.stop_loss, p.take_profit) == (D(95000), D(110000))


async def test_a_stop_the_market_already_passed_is_put_around_the_current_price(db: str) -> None:
    async for world in bought_before_watching(db, "90000"):
        preview = await world.actions.preview_protect(OWNER, "BTC")
        assert preview.protect is not None and preview.protect.reference == "market"
        assert preview.protect.stop_loss == D(87300)


async def test_nothing_unprotected_is_refused_with_its_reason(world: World) -> None:
    with pytest.raises(ActionRefused) as refused:
        await world.actions.preview_protect(OWNER, "ETH")
    assert refused.value.key == "nothing_unprotected" and refused.value.values == {"asset": "ETH"}


async def protected(world: World) -> tuple[str, list[str]]:
    preview = await world.actions.preview_protect(OWNER, "BTC")
    await world.actions.confirm(preview.action_id, OWNER)
    group = await OcoGroupRecord.get(id=preview.action_id)
    legs = [o.order_id for o in world.exchange.orders.values()
            if o.status.is_open and o.client_oid in (group.stop_loss_client_oid, group.take_profit_client_oid)]
    return group.id, legs


async def test_canceling_a_group_cancels_both_legs_once_and_says_the_position_is_unprotected(world: World) -> None:
    group_id, legs = await protected(world)
    preview = await world.actions.preview_cancel_group(OWNER, group_id)
    c = preview.cancel
    assert c is not None and c.leaves == "unprotected" and sorted(o.order_id for o in c.orders) == sorted(legs)
    result = await world.actions.confirm(preview.action_id, OWNER)
    assert result.outcome is Outcome.DONE and sorted(result.canceled) == sorted(legs)
    assert all(world.exchange.orders[o].status is OrderStatus.CANCELED for o in legs)
    assert (await world.actions.confirm(preview.action_id, OWNER)).outcome is Outcome.ALREADY_DONE
    await world.h.sync.run_cycle()
    assert (await OcoGroupRecord.get(id=group_id)).state == GroupState.CANCELED
    assert [p.asset for p in await world.actions.portfolio.unprotected()] == ["BTC"]
    with pytest.raises(ActionRefused):
        await world.actions.preview_cancel_group(OWNER, group_id)


async def test_canceling_one_leg_warns_that_the_group_keeps_only_the_other(world: World) -> None:
    _, legs = await protected(world)
    await world.h.sync.run_cycle()
    preview = await world.actions.preview_cancel_order(OWNER, legs[0])
    assert preview.cancel is not None and preview.cancel.leaves == "one_leg"


async def test_canceling_a_plain_order_and_an_order_gone_meanwhile(world: World) -> None:
    order = await world.exchange.create_order(OrderRequest(
        symbol="BTC_USDT", side=Side.BUY, order_type=OrderType.LIMIT, client_oid="hand-low", quantity=D("0.01"),
        price=D(50000)))
    await world.h.sync.run_cycle()
    preview = await world.actions.preview_cancel_order(OWNER, order.order_id)
    assert preview.cancel is not None and preview.cancel.leaves == "" and preview.cancel.orders[0].price == D(50000)
    await world.exchange.cancel_order(symbol="BTC_USDT", order_id=order.order_id)      # by hand, meanwhile
    result = await world.actions.confirm(preview.action_id, OWNER)
    assert result.outcome is Outcome.DONE and result.canceled == (order.order_id,)
    with pytest.raises(ActionRefused) as refused:
        await world.actions.preview_cancel_order(OWNER, order.order_id)
    assert refused.value.key == "order_not_open"
