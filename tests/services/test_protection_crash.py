"""Crash at every step of placing protection, then restart: exactly one protection per filled buy."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from bot.db.models import OcoGroupRecord, OrderRecord
from bot.domain.events import ProtectionPlaced
from bot.domain.orders import OrderType, Side
from bot.exchange.base import OrderRequest
from tests.services.sim_exchange import simulated_exchange
from tests.services.sync_harness import build

pytestmark = pytest.mark.sync
D = Decimal
NATIVE_STEPS = ["planned", "group_saved", "native_sent", "recorded"]
FALLBACK_STEPS = ["planned", "group_saved", "stop_loss_sent", "take_profit_sent", "recorded"]


class Crash(Exception):
    """Stands for the process dying at this point."""


def crash_at(step: str, kind: type[BaseException]):  # type: ignore[no-untyped-def]
    fired: list[str] = []

    async def hook(name: str) -> None:
        if name == step and not fired:
            fired.append(name)
            raise kind(f"crash at {name}")

    return hook, fired


@pytest.mark.parametrize(("native", "step", "kind"),
                         [(True, s, Crash) for s in NATIVE_STEPS]
                         + [(False, s, Crash) for s in FALLBACK_STEPS]
                         + [(False, "stop_loss_sent", asyncio.CancelledError)])
async def test_restart_after_crash_ends_with_exactly_one_protection(
        db: str, native: bool, step: str, kind: type[BaseException]) -> None:
    async with simulated_exchange({"USDT": D(100000)}, native_oco=native) as exchange:
        hook, fired = crash_at(step, kind)
        first = build(exchange, hook=hook)
        await first.sync.run_cycle()
        buy = await exchange.create_order(OrderRequest(symbol="BTC_USDT", side=Side.BUY, order_type=OrderType.LIMIT,
                                                       client_oid="hand-buy", quantity=D("0.02"), price=D(100000)))
        await first.sync.run_cycle()
        exchange.set_price("BTC_USDT", D(100000))
        with pytest.raises(kind):
            await first.sync.run_cycle()
        assert fired == [step]

        restarted = build(exchange)                    # same exchange, same database, fresh process
        for _ in range(3):
            await restarted.sync.run_cycle()

        sells = [o for o in exchange.orders.values() if o.side is Side.SELL]
        expected = [OrderType.LIMIT, OrderType.STOP_LOSS] if native else [OrderType.STOP_LOSS,
                                                                           OrderType.TAKE_PROFIT_LIMIT]
        assert sorted(o.order_type for o in sells) == expected
        assert all(o.status.is_open and o.quantity == D("0.02") for o in sells)
        assert all(o.list_id is not None for o in sells) if native else all(o.list_id is None for o in sells)
        assert len({o.list_id for o in sells}) == 1
        groups = await OcoGroupRecord.all()
        assert len(groups) == 1 and groups[0].state == "active" and groups[0].entry_exchange_order_id == buy.order_id
        assert await OrderRecord.filter(oco_group_id=groups[0].id).count() == 2
        assert await OrderRecord.all().count() == 3                    # the buy and two legs, each once
        placed = first.of(ProtectionPlaced) + restarted.of(ProtectionPlaced)
        assert len(placed) <= 1 if step == "recorded" else len(placed) == 1
