"""Protect from the Mini App: a preview with the exact orders, then one confirmation by its owner
places them once on the exchange (the simulator); a repeat does nothing twice, a stranger nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from bot.db.models import BalanceRecord, OcoGroupRecord
from bot.exchange.simulator import SimulatorConfig
from tests.services.sim_exchange import SimulatedExchange, simulated_exchange
from tests.services.sync_harness import bought
from tests.webapp.conftest import with_candles
from tests.webapp.harness import ALLOWED, auth, build_app, seed_snapshots

D = Decimal
OTHER = 4343


@pytest.fixture
async def holding_btc(db: str) -> AsyncIterator[SimulatedExchange]:
    """0.5 BTC held on the exchange, mirrored, and not covered by any sell: an unprotected position."""
    async with simulated_exchange({"USDT": D(10000), "BTC": D("0.5")}, configure=with_candles) as sim:
        sim.set_price("BTC_USDT", D(100000))
        await BalanceRecord.create(mode=sim.adapter.mode, account="main", asset="BTC", total=D("0.5"), free=D("0.5"),
                                   locked=D(0))
        await seed_snapshots([D(50000)], mode=sim.adapter.mode, positions=[
            {"asset": "BTC", "quantity": "0.5", "price": "100000", "usd_value": "50000"}])
        yield sim


async def test_protect_previews_then_places_once_on_confirm(holding_btc, aiohttp_client) -> None:
    client = await aiohttp_client(build_app(holding_btc, allowed=(ALLOWED, OTHER)))
    response = await client.post("/api/actions/protect", json={"symbol": "BTC_USDT"}, headers=auth(language="en"))
    assert response.status == 200, await response.text()
    preview = await response.json()
    assert preview["kind"] == "protect" and preview["mode"] == holding_btc.adapter.mode
    assert D(preview["protect"]["quantity"]) == D("0.5")
    assert any("Stop-loss" in line for line in preview["lines"])
    assert await OcoGroupRecord.all().count() == 0                       # a preview places nothing

    foreign = await client.post(f"/api/actions/{preview['action_id']}/confirm", headers=auth(OTHER))
    assert foreign.status == 404 and (await foreign.json())["outcome"] == "foreign"

    done = await client.post(f"/api/actions/{preview['action_id']}/confirm", headers=auth(language="en"))
    assert done.status == 200, await done.text()
    result = await done.json()
    assert result["ok"] is True and result["outcome"] == "done"
    again = await (await client.post(f"/api/actions/{preview['action_id']}/confirm", headers=auth())).json()
    assert again["outcome"] == "already_done"
    sells = [o for o in holding_btc.orders.values() if o.side.value == "SELL"]
    assert sum((o.quantity for o in sells), D(0)) in (D("0.5"), D("1.0"))   # one OCO (or two linked legs)
    assert await OcoGroupRecord.all().count() == 1


async def test_nothing_unprotected_is_a_refusal_in_words(exchange, aiohttp_client) -> None:
    client = await aiohttp_client(build_app(exchange))
    response = await client.post("/api/actions/protect", json={"symbol": "ETH_USDT"}, headers=auth(language="es"))
    assert response.status == 409
    assert "ETH" in (await response.json())["message"]


async def test_protect_on_a_lone_stop_loss_previews_and_completes_the_protection(db: str, aiohttp_client) -> None:
    """A buy's protection stands as a stop-loss only (the native OCO, then the take-profit refused):
    the Mini App's Protect for the coin previews completing it, and the confirmation does it."""
    def stops_reserve(config: SimulatorConfig) -> None:
        config.trigger_orders_lock = True

    async with simulated_exchange({"USDT": D(100000)}, native_oco=False, configure=stops_reserve) as sim:
        h = await bought(sim, "0.01")
        await h.sync.run_cycle()
        sim.sim.engine.trigger_orders_lock = False                  # the two linked legs can stand now
        client = await aiohttp_client(build_app(sim))
        response = await client.post("/api/actions/protect", json={"symbol": "BTC_USDT"}, headers=auth(language="es"))
        assert response.status == 200, await response.text()
        preview = await response.json()
        assert preview["kind"] == "complete_protection" and D(preview["complete"]["quantity"]) == D("0.01")
        assert preview["lines"][0].startswith("Completar la protección: BTC")
        assert any("Durante un momento" in line for line in preview["lines"])
        confirm = await client.post(f"/api/actions/{preview['action_id']}/confirm", headers=auth(language="es"))
        done = await confirm.json()
        assert done["ok"] is True and done["lines"][0].startswith("Protección completada")
        open_sells = sorted(o.order_type.value for o in sim.orders.values() if o.side.value == "SELL"
                            and o.status.is_open)
        assert open_sells == ["STOP_LOSS", "TAKE_PROFIT_LIMIT"]
