"""The command line: `python -m bot COMMAND` (run, migrate, check, backfill, simulator, backtest)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.settings import SettingsError, load_settings


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

    handler = getattr(commands, f"cmd_{args.command}")
    try:
        return asyncio.run(handler(settings, args)) or 0
    except KeyboardInterrupt:
        return 130

