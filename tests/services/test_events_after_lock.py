"""Events are delivered after the lock they were published under: a subscriber's work (the
notifier's outbox write) never sits between a leg's fill and its sibling's cancel."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from bot.domain.events import Event, OcoLegDone, OrderFilled
from bot.domain.orders import OrderStatus
from bot.services.events import EventBus
from tests.services.sim_exchange import simulated_exchange
from tests.services.sync_harness import bought

D = Decimal


@pytest.mark.sync
async def test_a_take_profit_fill_reaches_subscribers_after_its_sibling_is_canceled(db: str) -> None:
    async with simulated_exchange({"USDT": D(100000)}, native_oco=False) as exchange:
        h = await bought(exchange, "0.01")
        await h.sync.run_cycle()                              # both legs mirrored
        placed = h.events.published[-1]
        stop_oid = next(leg.client_oid for leg in await h.repo.legs_of(placed.group_id)  # type: ignore[attr-defined]
                        if leg.role == "stop_loss")
        stop_status_when_told: list[OrderStatus] = []

        async def subscriber(event: Event) -> None:
            assert isinstance(event, OrderFilled)
            if event.role == "take_profit":
                stop = await exchange.order_detail(client_oid=stop_oid)
                stop_status_when_told.append(stop.status)

        h.events.subscribe(OrderFilled, subscriber)
        exchange.set_price("BTC_USDT", D(103000))            # the take-profit fills
        await h.sync.run_cycle()

        assert stop_status_when_told == [OrderStatus.CANCELED]
        assert len(h.of(OcoLegDone)) == 1


async def test_events_published_under_a_lock_are_delivered_in_order_after_its_release() -> None:
    bus, lock = EventBus(), asyncio.Lock()
    delivered: list[tuple[str, bool]] = []

    async def record(event: Event) -> None:
        delivered.append((event.mode, lock.locked()))

    bus.subscribe(Event, record)
    async with bus.held_while(lock):
        await bus.publish(Event(mode="first"))
        await bus.publish(Event(mode="second"))
        assert delivered == []

    assert delivered == [("first", False), ("second", False)]


async def test_held_events_are_still_delivered_when_the_locked_work_fails() -> None:
    bus, lock = EventBus(), asyncio.Lock()
    delivered: list[str] = []

    async def record(event: Event) -> None:
        delivered.append(event.mode)

    bus.subscribe(Event, record)
    with pytest.raises(RuntimeError):
        async with bus.held_while(lock):
            await bus.publish(Event(mode="stored before the failure"))
            raise RuntimeError("exchange down")

    assert delivered == ["stored before the failure"]


async def test_another_task_publishing_meanwhile_is_not_held_back() -> None:
    bus, lock = EventBus(), asyncio.Lock()
    delivered: list[str] = []
    release = asyncio.Event()

    async def record(event: Event) -> None:
        delivered.append(event.mode)

    async def other_task() -> None:
        await bus.publish(Event(mode="other"))
        release.set()

    bus.subscribe(Event, record)
    async with bus.held_while(lock):
        await bus.publish(Event(mode="held"))
        await asyncio.create_task(other_task())
        await release.wait()
        assert delivered == ["other"]

    assert delivered == ["other", "held"]
