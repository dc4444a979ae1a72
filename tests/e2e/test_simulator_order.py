"""`python -m bot simulator order|price`: an order placed by hand on a running simulator and the market
moved onto it, as the real commands, so the protection flow can be tried without a script."""

from __future__ import annotations

import asyncio
import re
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from aiohttp import web

from bot.devtools.simulator_harness import SimulatorHandle, running_simulator
from bot.domain.orders import OrderStatus
from bot.exchange.simulator import SimulatorConfig
from bot.exchange.simulator.market import bundled_candles
from tests.processes import bot_env

pytestmark = pytest.mark.e2e
KEYS = {"SIMULATOR_API_KEY": "hand-key", "SIMULATOR_API_SECRET": "hand-secret"}


async def bot_command(tmp_path: Path, *argv: str, **settings: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "simulator", *argv, cwd=tmp_path, env=bot_env(**settings),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def sim() -> object:
    config = SimulatorConfig(candles=bundled_candles(), balances={"USDT": Decimal(10000)},
                             api_key=KEYS["SIMULATOR_API_KEY"], api_secret=KEYS["SIMULATOR_API_SECRET"])
    async with running_simulator(config) as handle:
        yield handle


async def test_an_order_by_hand_then_the_market_fills_it(sim: SimulatorHandle, tmp_path: Path) -> None:
    code, out, err = await bot_command(tmp_path, "order", "buy", "btc/usdt", "0.01", "--price", "50000",
                                       "--url", sim.base_url, **KEYS)
    assert (code, err) == (0, ""), err
    placed = re.match(r"placed: BUY 0\.01 BTC_USDT LIMIT at 50000; order (\d+), client_oid (\S+), status NEW\n", out)
    assert placed, out
    assert f"python -m bot simulator price BTC_USDT 50000 --url {sim.base_url}" in out
    order = sim.engine.get(client_oid=placed.group(2))
    assert order is not None and order.status is OrderStatus.ACTIVE

    code, out, err = await bot_command(tmp_path, "price", "BTC_USDT", "50000", "--url", sim.base_url)
    assert (code, out, err) == (0, "BTC_USDT now at 50000; orders changed: 1\n", "")
    assert order.status is OrderStatus.FILLED


async def test_refusals_are_one_line(sim: SimulatorHandle, tmp_path: Path) -> None:
    code, out, err = await bot_command(tmp_path, "order", "BUY", "BTC_USDT", "1000", "--price", "50000",
                                       "--url", sim.base_url, **KEYS)
    assert (code, out) == (1, "")
    assert err == "simulator order: refused: not enough free balance (INSUFFICIENT_AVAILABLE_BALANCE) (code 306)\n"
    code, out, err = await bot_command(tmp_path, "order", "BUY", "BTC_USDT", "0.01", "--url", sim.base_url)
    assert (code, out) == (2, "")
    assert err.startswith("--key/--secret: no simulator keys; pass the ones `python -m bot simulator` printed")
    code, _, err = await bot_command(tmp_path, "order", "HOLD", "BTC_USDT", "0.01", **KEYS)
    assert (code, err) == (2, "side 'HOLD': expected BUY or SELL\n")
    code, _, err = await bot_command(tmp_path, "price", "BTC_USDT", "-1", "--url", sim.base_url)
    assert (code, err) == (2, "price '-1' must be greater than 0, e.g. 95000\n")


async def test_a_url_that_is_not_the_simulator_gets_no_order(aiohttp_server, tmp_path: Path) -> None:
    """The adapter trades for real wherever it is pointed: the command asks the simulator's control API
    first, so a mistyped --url (the real exchange's, say) never receives the order."""
    calls: list[str] = []

    async def anything(request: web.Request) -> web.Response:
        calls.append(request.path)
        return web.Response(status=404, text="not here")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", anything)
    server = await aiohttp_server(app)
    url = str(server.make_url("")).rstrip("/")
    code, out, err = await bot_command(tmp_path, "order", "BUY", "BTC_USDT", "0.01", "--url", url, **KEYS)
    assert (code, out) == (2, "")
    assert err == f"--url: {url} is not the simulator (no control API at /_sim/state)\n"
    assert calls == ["/_sim/state"]
