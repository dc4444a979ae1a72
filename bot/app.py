"""Running the application: `python -m bot run` and `python -m bot check`.

Everything long-lived is built by the composition root (`bot/compose.py`); this module owns the
process's life: the database first, signals, start, wait, and an orderly shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import Awaitable

from bot.compose import Application, build_application, database_probe, exchange_probe
from bot.db.config import close_db, init_db
from bot.exchange.factory import build_exchange
from bot.logging_setup import configure_logging
from bot.settings import Settings, SettingsError
from webapp.health import HealthReport

log = logging.getLogger("bot.app")


def settle_heap() -> None:
    """Move everything built at start-up (ccxt's tables, the ORM, aiogram, pandas) out of the
    collector's sight. Without it, each full collection walks those hundreds of thousands of
    objects: 100+ ms in which no order update is handled, measured as the worst case of a
    sibling cancel (bench/oco_reaction.py). They live as long as the process anyway."""
    gc.collect()
    gc.freeze()


# Ctrl-C must end the process within 5 s at any moment: shutdown steps are bounded, not awaited forever.
SHUTDOWN_SECONDS = 3.5
CLOSE_DB_SECONDS = 1.0


async def run_forever(settings: Settings) -> int:
    """Run until SIGINT/SIGTERM. A setting or resource that cannot be used raises `SettingsError`
    (the command line prints its one line and exits with 2); other start-up failures return 1."""
    configure_logging(settings.LOG_LEVEL, settings.secret_values(), settings.LOG_FORMAT)
    log.info("starting in %s mode", settings.mode.upper())
    loop = asyncio.get_running_loop()
    main_task = asyncio.current_task()
    stop = asyncio.Event()
    starting = True

    def on_signal() -> None:
        stop.set()
        # Start-up steps (a database that never answers, a slow exchange) are interrupted, not waited for.
        if starting and main_task is not None:
            main_task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, on_signal)
    app: Application | None = None
    code = 0
    try:
        try:
            # Tortoise keeps its context in a ContextVar: it is initialised in this task, before any
            # other task exists, so everything created later sees it.
            await init_db(settings.DATABASE_URL)
            app = await build_application(settings)
            await app.start()
            settle_heap()
        except asyncio.CancelledError:
            if not stop.is_set() or main_task is None:
                raise
            starting = False
            main_task.uncancel()
            log.info("interrupted during start-up")
            return 0
        except SettingsError:
            starting = False
            raise
        except Exception as exc:
            starting = False
            log.error("could not start: %s", exc if isinstance(exc, RuntimeError) else type(exc).__name__)
            log.debug("start-up failure", exc_info=True)
            return 1
        starting = False
        stopper = asyncio.create_task(stop.wait())
        background = asyncio.create_task(app.wait_background())
        await asyncio.wait({stopper, background}, return_when=asyncio.FIRST_COMPLETED)
        failed = app.polling_failure()
        if failed is not None and not stop.is_set():
            error = failed.exception() if not failed.cancelled() else None
            log.error("Telegram polling stopped: %s", type(error).__name__ if error else "ended")
            code = 1
        for task in (stopper, background):
            task.cancel()
    finally:
        starting = False
        if app is not None:
            await _bounded(app.shutdown(), SHUTDOWN_SECONDS, "shutdown")
        await _bounded(close_db(), CLOSE_DB_SECONDS, "closing the database")
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)
    log.info("stopped")
    return code


async def _bounded(step: Awaitable[object], seconds: float, what: str) -> None:
    try:
        await asyncio.wait_for(step, seconds)
    except TimeoutError:
        log.warning("%s took longer than %.1f s; stopping anyway", what, seconds)
    except Exception:
        log.exception("error during %s", what)


async def check_report(settings: Settings) -> int:
    """`python -m bot check`: settings (masked) and whether each outside system answers."""
    configure_logging(settings.LOG_LEVEL, settings.secret_values(), settings.LOG_FORMAT, command_line=True)
    print("Settings:")
    for name, value in settings.masked().items():
        print(f"  {name} = {value}")
    await init_db(settings.DATABASE_URL)
    try:
        exchange = build_exchange(settings)
        report = HealthReport(mode=settings.mode, probes={
            "database": database_probe(settings.DATABASE_URL), "exchange": exchange_probe(exchange)})
        result = await report.collect()
        await exchange.close()
    finally:
        await close_db()
    print(f"Mode: {settings.mode}")
    for name, check in result["checks"].items():
        print(f"  {name}: {'ok' if check['ok'] else 'FAILED (' + check['error'] + ')'}")
    sys.stdout.flush()
    return 0 if result["status"] == "ok" else 1
