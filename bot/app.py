"""The composition root: builds every part from settings and runs them in one event loop.

Order matters: Tortoise is initialised before anything creates tasks (its context lives in a
ContextVar that tasks copy at creation), then the exchange, Telegram, the web server and the jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.db.config import close_db, connection_label, init_db
from bot.exchange.base import Exchange
from bot.jobs.scheduler import JobScheduler
from bot.logging_setup import configure_logging
from bot.services.events import EventBus
from bot.services.locks import JobLock, LocalJobLock, RedisJobLock
from bot.settings import Settings
from webapp.app import build_web_app
from webapp.health import HealthReport

log = logging.getLogger("bot.app")
BUNDLED_CANDLES = Path(__file__).resolve().parent / "data" / "candles"
Closer = Callable[[], Awaitable[object]]


def market_data_source(settings: Settings) -> str:
    """The sandbox runs offline: unless MARKET_DATA was set explicitly, it replays the bundled candles."""
    if settings.sandbox and "MARKET_DATA" not in settings.model_fields_set:
        return f"replay:{BUNDLED_CANDLES}"
    return settings.MARKET_DATA


@dataclass
class App:
    settings: Settings
    events: EventBus
    lock: JobLock
    exchange: Exchange
    scheduler: JobScheduler
    health: HealthReport
    web_app: web.Application
    services: dict[str, Any] = field(default_factory=dict)
    bot: Any = None
    dispatcher: Any = None
    redis: Any = None
    sandbox: Any = None
    web_url: str | None = None
    _runner: web.AppRunner | None = None
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _closers: list[Closer] = field(default_factory=list)

    async def start(self) -> None:
        self._runner = web.AppRunner(self.web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.WEBAPP_HOST, self.settings.WEBAPP_PORT)
        await site.start()
        port = self._runner.addresses[0][1] if self._runner.addresses else self.settings.WEBAPP_PORT
        self.web_url = f"http://{self.settings.WEBAPP_HOST}:{port}"
        log.info("web server on %s (health: %s/healthz)", self.web_url, self.web_url)
        start_exchange = getattr(self.exchange, "start", None)
        if start_exchange is not None:
            await start_exchange()
        register_jobs(self)
        sync = self.services.get("sync")
        if sync is not None:
            from bot.jobs.sync_job import start_order_stream

            self._tasks.append(start_order_stream(sync))
        if self.bot is not None and self.dispatcher is not None:
            from bot.telegram.setup import register_commands

            await register_commands(self.bot, self.settings)
            self._tasks.append(asyncio.create_task(
                self.dispatcher.start_polling(self.bot, handle_signals=False, close_bot_session=False),
                name="telegram-polling"))
        if self.sandbox is not None:
            from bot.sandbox.chat import run_terminal_chat

            self._tasks.append(asyncio.create_task(run_terminal_chat(
                self.sandbox.emulator, self.sandbox.user_id, self.settings.DEFAULT_LANGUAGE), name="sandbox-chat"))

    def background_failure(self) -> asyncio.Task[Any] | None:
        for task in self._tasks:
            if task.done() and task.get_name() == "telegram-polling":
                return task
        return None

    async def wait_background(self) -> None:
        polling = [t for t in self._tasks if t.get_name() == "telegram-polling"]
        if polling:
            await asyncio.wait(polling)
        else:
            await asyncio.Event().wait()

    async def shutdown(self) -> None:
        log.info("shutting down")
        if self.dispatcher is not None:
            with contextlib.suppress(RuntimeError):
                await self.dispatcher.stop_polling()
        await self.scheduler.stop()
        for task in self._tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for closer in reversed(self._closers):
            try:
                await closer()
            except Exception:
                log.exception("error while closing")
        if self._runner is not None:
            await self._runner.cleanup()


def register_jobs(app: App) -> None:
    """Every periodic job, each a plain async function wrapped by the scheduler's no-overlap lock."""
    from bot.jobs.registry import job_definitions

    for name, spec, job in job_definitions(app):
        app.scheduler.add(name, spec, job)


async def build_app(settings: Settings, *, exchange: Exchange | None = None) -> App:
    """Build everything from settings (the database must already be initialised)."""
    events = EventBus()
    redis = None
    lock: JobLock
    if settings.REDIS_URL:
        from redis.asyncio import Redis

        redis = Redis.from_url(settings.REDIS_URL, decode_responses=True)
        lock = RedisJobLock(redis)
    else:
        lock = LocalJobLock()

    if exchange is None:
        from bot.exchange.factory import build_exchange

        exchange = build_exchange(settings, market_data=market_data_source(settings))
    from bot.services.audited_exchange import AuditedExchange

    exchange = AuditedExchange(exchange)  # type: ignore[assignment]
    scheduler = JobScheduler(lock=lock, timezone=settings.TIMEZONE)
    health = HealthReport(mode=settings.mode, jobs=lambda: {n: s.as_dict() for n, s in scheduler.status.items()})
    app = App(settings=settings, events=events, lock=lock, exchange=exchange, scheduler=scheduler,
              health=health, web_app=build_web_app(health), redis=redis)
    app._closers.append(exchange.close)
    if redis is not None:
        app._closers.append(redis.aclose)

    health.probes["database"] = _database_probe(settings.DATABASE_URL)
    health.probes["exchange"] = _exchange_probe(exchange)

    from bot.services.wiring import build_services

    app.services = build_services(app)
    await _build_telegram(app)
    return app


async def _build_telegram(app: App) -> None:
    from bot.telegram.setup import build_bot, build_dispatcher

    settings = app.settings
    api_url = settings.TELEGRAM_API_URL
    token: str | None = None
    if settings.sandbox:
        from bot.sandbox import start_sandbox

        if not settings.TELEGRAM_ALLOWED_USERS:
            from bot.sandbox import DEMO_USER_ID

            # The sandbox's own chat user is the only one who can talk to it.
            settings = settings.model_copy(update={"TELEGRAM_ALLOWED_USERS": (DEMO_USER_ID,)})
        app.sandbox = await start_sandbox(settings)
        app._closers.append(app.sandbox.close)
        api_url, token = app.sandbox.url, app.sandbox.token
        log.info("no TELEGRAM_BOT_TOKEN: local Telegram sandbox at %s", api_url)
    app.bot = build_bot(settings, api_url=api_url, token=token)
    app._closers.append(app.bot.session.close)
    storage = _fsm_storage(app)
    app.dispatcher = build_dispatcher(settings, services=app.services | {"events": app.events}, storage=storage)
    app.health.probes["telegram"] = _telegram_probe(app.bot)
    from bot.telegram.notifier import Notifier
    from bot.telegram.setup import build_i18n

    notifier = Notifier(app.bot, app.events, build_i18n(settings.DEFAULT_LANGUAGE), settings.TELEGRAM_ALLOWED_USERS,
                        settings.DEFAULT_LANGUAGE)
    app.services["notifier"] = notifier
    await notifier.start()
    app._closers.append(notifier.close)


def _fsm_storage(app: App) -> Any:
    if app.redis is not None:
        from aiogram.fsm.storage.redis import RedisStorage
        from redis.asyncio import Redis

        # A separate client: the dispatcher closes its storage's connection pool on shutdown.
        return RedisStorage(Redis.from_url(app.settings.REDIS_URL or ""))
    from aiogram.fsm.storage.memory import MemoryStorage

    return MemoryStorage()


def _database_probe(db_url: str) -> Callable[[], Awaitable[None]]:
    async def probe() -> None:
        from tortoise import Tortoise

        await Tortoise.get_connection(connection_label(db_url)).execute_query("SELECT 1")

    return probe


def _exchange_probe(exchange: Exchange) -> Callable[[], Awaitable[None]]:
    async def probe() -> None:
        await exchange.instruments()

    return probe


def _telegram_probe(bot: Any) -> Callable[[], Awaitable[None]]:
    cache: dict[str, float] = {}

    async def probe() -> None:
        loop = asyncio.get_running_loop()
        if loop.time() - cache.get("ok_at", -1e9) < 30:
            return
        await bot.get_me()
        cache["ok_at"] = loop.time()

    return probe


async def run_forever(settings: Settings) -> int:
    configure_logging(settings.LOG_LEVEL, settings.secret_values())
    log.info("starting in %s mode", settings.mode.upper())
    try:
        await init_db(settings.DATABASE_URL)
    except Exception as exc:
        log.error("database %s unavailable: %s", settings.masked()["DATABASE_URL"], type(exc).__name__)
        return 1
    app: App | None = None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    code = 0
    try:
        try:
            app = await build_app(settings)
            await app.start()
        except Exception as exc:
            log.error("could not start: %s", exc if isinstance(exc, RuntimeError) else type(exc).__name__)
            log.debug("start-up failure", exc_info=True)
            return 1
        stopper = asyncio.create_task(stop.wait())
        background = asyncio.create_task(app.wait_background())
        await asyncio.wait({stopper, background}, return_when=asyncio.FIRST_COMPLETED)
        failed = app.background_failure()
        if failed is not None and not stop.is_set():
            error = failed.exception() if not failed.cancelled() else None
            log.error("Telegram polling stopped: %s", type(error).__name__ if error else "ended")
            code = 1
        for task in (stopper, background):
            task.cancel()
    finally:
        if app is not None:
            await app.shutdown()
        await close_db()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)
    log.info("stopped")
    return code


async def check_report(settings: Settings) -> int:
    """`python -m bot check`: settings (masked) and whether each outside system answers."""
    configure_logging(settings.LOG_LEVEL, settings.secret_values())
    print("Settings:")
    for name, value in settings.masked().items():
        print(f"  {name} = {value}")
    await init_db(settings.DATABASE_URL)
    try:
        from bot.exchange.factory import build_exchange

        exchange = build_exchange(settings, market_data=market_data_source(settings))
        report = HealthReport(mode=settings.mode, probes={
            "database": _database_probe(settings.DATABASE_URL), "exchange": _exchange_probe(exchange)})
        result = await report.collect()
        await exchange.close()
    finally:
        await close_db()
    print(f"Mode: {settings.mode}")
    for name, check in result["checks"].items():
        print(f"  {name}: {'ok' if check['ok'] else 'FAILED (' + check['error'] + ')'}")
    sys.stdout.flush()
    return 0 if result["status"] == "ok" else 1
