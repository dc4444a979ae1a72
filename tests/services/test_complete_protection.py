"""Protect on a group that stands as a stop-loss only (native OCO refused, then the take-profit
refused because the untriggered stop reserves the coins): the preview offers to complete it, and
the confirmation cancels the lone stop-loss and places the full protection once, on the simulator
through the live adapter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.db.models import OcoGroupRecord, PendingAction
from bot.domain.actions import ActionKind, ActionPreview, Outcome
from bot.domain.events import OcoLegDone
from bot.domain.oco import GroupState
from bot.domain.orders import OrderType, Side
from bot.exchange.simulator import SimulatorConfig
from bot.services.actions import ActionService
from bot.services.portfolio import PortfolioService
from bot.services.user_settings import SettingDefaults, UserSettingsService
from tests.clocks import SetClock
from tests.services.sim_exchange import SimulatedExchange, simulated_exchange
from tests.services.sync_harness import Harness, bought

pytestmark = pytest.mark.sync
D = Decimal
OWNER = 11
CREATES = ("private/advanced/create-oco", "private/advanced/create-order", "private/create-order")
CANCELS = ("private/advanced/cancel-order", "private/cancel-order")


@dataclass
class World:
    exchange: SimulatedExchange
    h: Harness
    actions: ActionService
    clock: SetClock[datetime]
    lone_group: str

    def calls(self, methods: tuple[str, ...]) -> int:
        return sum(self.exchange.exchange_calls(m) for m in methods)

    def open_sells(self) -> list[tuple[OrderType, Decimal, bool]]:
        return sorted((o.order_type, o.quantity, o.list_id is not None) for o in self.exchange.orders.values()
                      if o.status.is_open and o.side is Side.SELL)

    async def preview(self, group: str | None = None) -> ActionPreview:
        return await self.actions.preview_protect(OWNER, "BTC_USDT", group)


@pytest.fixture
async def world(db: str) -> AsyncIterator[World]:
    """0.01 BTC bought at 100,000 and protected by a stop-loss alone: the exchange refused the native
    OCO, then the take-profit (the untriggered stop reserves the coins)."""
    def stops_reserve(config: SimulatorConfig) -> None:
        config.trigger_orders_lock = True

    # The adapter asks again for a native OCO at once (not after its usual pause): the exchange may offer it later.
    async with simulated_exchange({"USDT": D(100000)}, native_oco=False, configure=stops_reserve,
                                  missing_method_retry_seconds=0) as exchange:
        h = await bought(exchange, "0.01")
        await h.sync.run_cycle()
        [group] = await OcoGroupRecord.filter(state=GroupState.ACTIVE.value)
        clock = SetClock(datetime(2026, 12, 5, 8, 0, tzinfo=UTC))
        actions = ActionService(exchange, h.protection, PortfolioService(h.repo.mode),
                                UserSettingsService(SettingDefaults()), allowed_users=[OWNER],
                                mirror=h.sync.ingest, clock=clock)
        actions.completion.cancel_check_delay = 0.01
        world = World(exchange, h, actions, clock, group.id)
        assert world.open_sells() == [(OrderType.STOP_LOSS, D("0.01"), False)]
        yield world


def exchange_takes_native_oco(world: World) -> None:
    world.exchange.sim.faults.clear()


def stops_reserve_nothing(world: World) -> None:
    world.exchange.sim.engine.trigger_orders_lock = False


@pytest.mark.parametrize(("now", "native"), [(exchange_takes_native_oco, True), (stops_reserve_nothing, False)],
                         ids=["native_oco", "linked_legs"])
async def test_a_lone_stop_loss_is_completed_into_a_full_protection_once(world: World, now: Any,
                                                                          native: bool) -> None:
    before = world.calls(CREATES + CANCELS)
    from_the_notice = await world.preview(world.lone_group)
    from_orders = await world.preview()          # /orders, the daily report, the Mini App: no group named
    c = from_the_notice.complete
    assert from_the_notice.kind is ActionKind.COMPLETE and from_orders.kind is ActionKind.COMPLETE and c is not None
    assert (c.group_id, c.quantity, c.stop_loss, c.take_profit) == (world.lone_group, D("0.01"), D(97000), D(103000))
    assert not c.native_oco                       # it was refused last time: the preview says so
    assert world.calls(CREATES + CANCELS) == before               # a preview sends nothing

    now(world)
    done = await world.actions.confirm(from_the_notice.action_id, OWNER)
    assert done.outcome is Outcome.DONE and done.native_oco is native
    assert dict(done.reason_args)["quantity"] == "0.01"
    sent = world.calls(CREATES + CANCELS)
    again = await world.actions.confirm(from_the_notice.action_id, OWNER)
    assert again.outcome is Outcome.ALREADY_DONE and world.calls(CREATES + CANCELS) == sent

    if native:
        assert world.open_sells() == [(OrderType.LIMIT, D("0.01"), True), (OrderType.STOP_LOSS, D("0.01"), True)]
    else:
        assert world.open_sells() == [(OrderType.STOP_LOSS, D("0.01"), False),
                                      (OrderType.TAKE_PROFIT_LIMIT, D("0.01"), False)]
    old = await OcoGroupRecord.get(id=world.lone_group)
    new = await OcoGroupRecord.get(id=from_the_notice.action_id)
    assert old.state == GroupState.CANCELED.value and new.state == GroupState.ACTIVE.value
    assert (new.quantity, new.stop_loss_price, new.take_profit_price) == (D("0.01"), D(97000), D(103000))
    assert new.entry_order_id == old.entry_order_id       # the buy's P/L is followed as before
    await world.h.sync.run_cycle()
    assert [p.asset for p in await world.actions.portfolio.unprotected()] == []
    # The other preview (from /orders) finds the stop-loss gone: nothing is canceled or placed.
    late = await world.actions.confirm(from_orders.action_id, OWNER)
    assert late.outcome is Outcome.FAILED and late.reason_key == "already_complete"
    assert world.calls(CREATES + CANCELS) == sent


async def test_two_devices_confirming_at_once_cancel_and_place_once(world: World) -> None:
    exchange_takes_native_oco(world)
    preview = await world.preview(world.lone_group)
    before = world.calls(CREATES + CANCELS)
    results = await asyncio.gather(*(world.actions.confirm(preview.action_id, OWNER) for _ in range(2)))
    assert sorted(r.outcome.value for r in results) == ["done", "in_progress"]
    assert world.calls(CREATES + CANCELS) == before + 2               # one cancel, one OCO
    assert len([o for o in world.open_sells() if o[2]]) == 2


async def test_a_run_cut_off_after_the_cancel_is_finished_by_the_next_press(world: World) -> None:
    exchange_takes_native_oco(world)
    preview = await world.preview(world.lone_group)
    assert preview.complete is not None
    # As if the process died right after the cancel: the stop-loss is gone, nothing placed yet.
    await world.exchange.cancel_order(symbol="BTC_USDT", client_oid=preview.complete.stop_loss_client_oid)
    await PendingAction.filter(id=preview.action_id).update(state="running", decided_at=world.clock.now)
    assert (await world.actions.confirm(preview.action_id, OWNER)).outcome is Outcome.IN_PROGRESS
    world.clock.now += timedelta(minutes=3)
    done = await world.actions.confirm(preview.action_id, OWNER)
    assert done.outcome is Outcome.DONE and done.native_oco is True
    placed = world.calls(CREATES)
    # And cut off again after placing, before the result was recorded: nothing is sent twice.
    await PendingAction.filter(id=preview.action_id).update(state="running", decided_at=world.clock.now)
    world.clock.now += timedelta(minutes=3)
    assert (await world.actions.confirm(preview.action_id, OWNER)).outcome is Outcome.DONE
    assert world.calls(CREATES) == placed
    assert world.open_sells() == [(OrderType.LIMIT, D("0.01"), True), (OrderType.STOP_LOSS, D("0.01"), True)]


async def test_a_placement_refused_after_the_cancel_is_reported_and_the_coins_show_unprotected(world: World) -> None:
    preview = await world.preview(world.lone_group)
    # The native OCO is still refused, and now every stop-loss too.
    world.exchange.sim.faults.force_code("private/advanced/create-order", "306", times=None)
    failed = await world.actions.confirm(preview.action_id, OWNER)
    assert failed.outcome is Outcome.FAILED and failed.reason_key == "completion_not_placed"
    values = dict(failed.reason_args)
    assert (values["why_key"], values["unprotected"], values["coin"]) == ("stop_loss_refused", "0.01", "BTC")
    assert world.open_sells() == []                            # never more sold or reserved than held
    await world.h.sync.run_cycle()
    [unprotected] = await world.actions.portfolio.unprotected()
    assert (unprotected.asset, unprotected.quantity) == ("BTC", D("0.01"))
    # Protect offers the usual protection for it now (the lone stop-loss is gone).
    world.exchange.sim.faults.clear()
    again = await world.preview()
    assert again.kind is ActionKind.PROTECT


async def test_the_take_profit_refused_again_leaves_the_new_stop_loss_and_says_so(world: World) -> None:
    preview = await world.preview(world.lone_group)             # the exchange still refuses both
    result = await world.actions.confirm(preview.action_id, OWNER)
    assert result.outcome is Outcome.FAILED and result.reason_key == "take_profit_refused_again"
    assert world.open_sells() == [(OrderType.STOP_LOSS, D("0.01"), False)]


async def test_a_stop_loss_that_sold_meanwhile_is_not_replaced_and_its_sale_is_told(world: World) -> None:
    exchange_takes_native_oco(world)
    preview = await world.preview(world.lone_group)
    world.exchange.set_price("BTC_USDT", D(96000))                # the stop-loss triggers and sells
    result = await world.actions.confirm(preview.action_id, OWNER)
    assert result.outcome is Outcome.FAILED and result.reason_key == "stop_loss_sold"
    assert world.open_sells() == [] and world.calls(("private/advanced/create-oco",)) == 1    # only the first, refused
    await world.h.sync.run_cycle()
    old = await OcoGroupRecord.get(id=world.lone_group)
    assert old.state == GroupState.CLOSED.value and old.exit_leg == "stop_loss"            # its own story, as usual
    assert [e.leg for e in world.h.of(OcoLegDone)] == ["stop_loss"]


async def test_two_previews_confirmed_at_once_place_one_protection(world: World) -> None:
    exchange_takes_native_oco(world)
    first, second = await world.preview(world.lone_group), await world.preview()
    results = await asyncio.gather(world.actions.confirm(first.action_id, OWNER),
                                   world.actions.confirm(second.action_id, OWNER))
    assert sorted((r.outcome.value, r.reason_key or "") for r in results) == [("done", ""),
                                                                              ("failed", "already_complete")]
    assert world.open_sells() == [(OrderType.LIMIT, D("0.01"), True), (OrderType.STOP_LOSS, D("0.01"), True)]
    assert world.calls(("private/advanced/create-oco",)) == 2            # the first, refused; then one
