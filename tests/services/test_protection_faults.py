"""Exchange faults while placing protection: a dropped answer is resolved by client_oid, a refusal is
reported once and never retried in a loop."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bot.db.models import OcoGroupRecord
from bot.domain.events import ProtectionFailed, ProtectionPlaced
from bot.domain.orders import Side
from tests.services.sim_exchange import simulated_exchange
from tests.services.sync_harness import bought

pytestmark = pytest.mark.sync
D = Decimal


async def test_dropped_answer_is_resolved_by_client_oid_without_a_second_order(db: str) -> None:
    async with simulated_exchange({"USDT": D(100000)}) as exchange:
        exchange.sim.faults.drop("private/advanced/create-oco")      # placed, but the answer is lost
        h = await bought(exchange, "0.05")
        await h.sync.run_cycle()
        group = await OcoGroupRecord.first()
        assert group is not None and group.state == "active" and len(h.of(ProtectionPlaced)) == 1
        assert group.native_list_id is not None   # the answer was lost; the list was found by client_oid
        assert exchange.exchange_calls("private/advanced/create-oco") == 1
        assert len([o for o in exchange.orders.values() if o.side is Side.SELL]) == 2


async def test_refused_protection_is_reported_once_and_not_retried(db: str) -> None:
    async with simulated_exchange({"USDT": D(100000)}) as exchange:
        exchange.sim.faults.force_code("private/advanced/create-oco", "220", times=None)
        h = await bought(exchange, "0.05")
        for _ in range(3):
            await h.sync.run_cycle()
        failures: list[Any] = h.of(ProtectionFailed)
        assert len(failures) == 1 and "invalid side" in failures[0].reason
        assert failures[0].wanted_quantity == D("0.05") and failures[0].protected_quantity == 0
        assert exchange.exchange_calls("private/advanced/create-oco") == 1
        assert exchange.exchange_calls("private/advanced/create-order") == 0
        assert (await OcoGroupRecord.first()).state == "failed"  # type: ignore[union-attr]
