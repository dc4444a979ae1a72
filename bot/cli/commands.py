"""The command implementations behind `python -m bot`."""

from __future__ import annotations

import argparse

from bot.settings import Settings, unusable_address

# What each command imports (the heavy libraries with it), loaded before its event loop starts.
MODULES: dict[str, tuple[str, ...]] = {
    "run": ("bot.app", "bot.telegram.setup", "bot.sandbox.chat", "tortoise.migrations.api", "asyncpg"),
    "check": ("bot.app", "tortoise.migrations.api", "asyncpg"),
    "migrate": ("bot.db.config", "tortoise.migrations.api", "asyncpg"),
    "backfill": ("bot.cli.backfill", "bot.services.backfill", "bot.exchange.factory",
                 "tortoise.migrations.api", "asyncpg"),
    "backtest": ("bot.cli.backtest", "bot.services.backtest_plot"),
    "simulator": ("bot.exchange.simulator.main",),
}


async def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import run_forever

    return await run_forever(settings)


async def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from bot.db.config import close_db, migrate

    _quiet_logging(settings)
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
    if getattr(args, "sim_action", None):      # `simulator order ...` / `simulator price ...`: a client of one
        from bot.cli import simulator_order

        return await simulator_order.run(settings, args)
    from bot.exchange.simulator.main import serve

    try:
        return int(await serve(settings, host=args.host, port=args.port, data_dir=args.data, balances=args.balances))
    except OSError as exc:      # raised while binding: the only network step before it serves
        raise unusable_address(exc, args.host, args.port, host_setting="--host", port_setting="--port") from None


async def cmd_backtest(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli.backtest import run_backtest_cli

    _quiet_logging(settings)
    return int(await run_backtest_cli(settings, args))


def _quiet_logging(settings: Settings) -> None:
    from bot.logging_setup import configure_logging

    configure_logging(settings.LOG_LEVEL, settings.secret_values(), settings.LOG_FORMAT, command_line=True)
