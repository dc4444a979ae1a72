from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from tests.services.sim_exchange import SimulatedExchange, simulated_exchange


@pytest.fixture
async def exchange(db: str) -> AsyncIterator[SimulatedExchange]:
    async with simulated_exchange({"USDT": Decimal(10000)}) as sim:
        yield sim
