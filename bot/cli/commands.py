"""The command implementations behind `python -m bot`."""

from __future__ import annotations

import argparse

from bot.settings import Settings


async def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import run_forever

    return await run_forever(settings)


async def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from bot.db.config import close_db, migrate

    await migrate(settings.DATABASE_URL)
    await close_db()
    print("migrations applied")
    return 0


async def cmd_check(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import check_report

    return await check_report(settings)


async def cmd_backfill(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli.backfill import run_backfill

    return int(await run_backfill(settings))


async def cmd_simulator(settings: Settings, args: argparse.Namespace) -> int:
    from bot.exchange.simulator.main import serve

    return int(await serve(settings, host=args.host, port=args.port, data_dir=args.data, balances=args.balances))


async def cmd_backtest(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli.backtest import run_backtest_cli

    return int(await run_backtest_cli(settings, args))
