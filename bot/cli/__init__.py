"""The command line: `python -m bot COMMAND` (run, migrate, check, backfill, simulator, backtest)."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import signal
import sys
import threading

from bot.cli import simulator_order
from bot.settings import SettingsError, load_settings

# After the event loop ends, a library thread still busy (aiosqlite's, on a database that stopped
# answering) would keep the process alive; it gets this long before the process exits without it.
THREAD_GRACE_SECONDS = 1.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="bot, web server and jobs in one process")
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("check", help="configuration and connectivity report (secrets masked)")
    sub.add_parser("backfill", help="walk the whole order history into the database")
    sim = sub.add_parser("simulator", help="the crypto.com Exchange v1 simulator")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8765)
    sim.add_argument("--data", default=None, help="candle CSV folder for its instruments and market data")
    sim.add_argument("--balances", default="USDT=100000", help="starting balances, e.g. USDT=100000,BTC=0.5")
    simulator_order.add_arguments(sim)
    bt = sub.add_parser("backtest", help="backtest the signal strategy on candle files")
    bt.add_argument("symbol")
    bt.add_argument("--timeframe", default="1h")
    bt.add_argument("--from", dest="date_from", default=None)
    bt.add_argument("--to", dest="date_to", default=None)
    bt.add_argument("--data", default=None, help="candle CSV folder (default: MARKET_DATA=replay:DIR)")
    bt.add_argument("--output", default=None, help="equity-curve PNG path")
    bt.add_argument("--amount", default=None, help="USD per automatic buy (default 100)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    from bot.cli import commands

    # The command's modules (seconds of imports on a busy machine) load before the event loop
    # starts, where Ctrl-C can end the process at once: nothing is open yet, so nothing is undone.
    # Inside the loop a signal would wait for an import to end, and a KeyboardInterrupt raised
    # inside a library's import can come out as that library's own error, with a traceback.
    signal.signal(signal.SIGINT, _exit_now)
    try:
        for module in commands.MODULES.get(args.command, ()):
            importlib.import_module(module)
    finally:
        # From here on the command cleans up on Ctrl-C: asyncio.run handles it (it does so only
        # where Python's default handler is in place), and `run` installs its own handlers.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    handler = getattr(commands, f"cmd_{args.command}")
    try:
        code = asyncio.run(handler(settings, args)) or 0
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        code = 130
    return _leave(code)


def _exit_now(signum: int, frame: object) -> None:
    os._exit(128 + signum)


def _leave(code: int) -> int:
    """The exit code, once no library thread holds the process; a stuck one does not hold it longer."""
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    for thread in others:
        thread.join(THREAD_GRACE_SECONDS / max(1, len(others)))
    if any(t.is_alive() for t in others):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
