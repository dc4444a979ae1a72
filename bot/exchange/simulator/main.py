"""`python -m bot simulator`: the crypto.com v1 simulator on its own, for trying the live adapter
and a running bot without a real account."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from bot.exchange.marketdata import ReplayMarketData, instrument_for
from bot.exchange.simulator.core import Simulator, SimulatorConfig
from bot.exchange.simulator.market import BUNDLED, live_looking
from bot.exchange.simulator.server import SimulatorServer, serving
from bot.settings import Settings, parse_balances

log = logging.getLogger(__name__)


def config_from(settings: Settings, data_dir: str | None, balances: str) -> tuple[SimulatorConfig, bool]:
    """Instruments, prices and candles from the candle files (re-timed so the last candle ends now);
    keys from SIMULATOR_API_KEY / SIMULATOR_API_SECRET, or generated. Returns (config, generated)."""
    feed = ReplayMarketData(Path(data_dir) if data_dir else BUNDLED, warmup=0)
    candles = live_looking(feed)
    instruments = {s: instrument_for(s, c) for s, c in feed.series.items()}
    prices = {s: c[-1].close for s, c in feed.series.items() if c}
    key = settings.SIMULATOR_API_KEY
    secret = settings.SIMULATOR_API_SECRET.get_secret_value() if settings.SIMULATOR_API_SECRET else None
    generated = not (key and secret)
    if generated:
        key, secret = SimulatorConfig.generated_credentials()
    assert key is not None and secret is not None
    return SimulatorConfig(instruments=instruments, balances=parse_balances(balances), prices=prices,
                           candles=candles, api_key=key, api_secret=secret), generated


async def serve(settings: Settings, *, host: str, port: int, data_dir: str | None,
                balances: str = "USDT=100000") -> int:
    try:
        config, generated = config_from(settings, data_dir, balances)
    except (FileNotFoundError, ValueError) as exc:   # no candle files, a bad --balances
        print(f"simulator: {exc}")
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with serving(SimulatorServer(Simulator(config)), host=host, port=port) as sim:
        print(f"crypto.com v1 simulator: REST {sim.rest_url}  user WebSocket {sim.ws_url}")
        print(f"instruments: {', '.join(sorted(config.instruments or {}))}; balances: {balances}")
        if generated:
            # Printed once, on purpose: these keys open only this local simulator.
            print(f"generated keys (set SIMULATOR_API_KEY / SIMULATOR_API_SECRET to fix them): "
                  f"key={config.api_key} secret={config.api_secret}")
        print(f"control: POST {sim.base_url}/_sim/price {{\"symbol\":\"BTC_USDT\",\"price\":\"95000\"}}, "
              f"POST/DELETE {sim.base_url}/_sim/faults, GET {sim.base_url}/_sim/state. Ctrl-C stops.")
        keys = f" --key {config.api_key} --secret {config.api_secret}" if generated else ""
        print(f"an order by hand: python -m bot simulator order BUY BTC_USDT 0.01 --price 95000 --url {sim.base_url}"
              f"{keys}; then python -m bot simulator price BTC_USDT 95000 --url {sim.base_url}")
        await stop.wait()
    print("simulator stopped")
    return 0
