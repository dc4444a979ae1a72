"""The composition root: every long-lived object, built once from settings, held in typed fields.

Nothing under `bot/` imports this module except the entry points (`bot/app.py`, `bot/cli/`); a test
builds the whole application in one call with `build_application(settings, exchange=...)`.

Order matters: the database is initialised before anything creates tasks (Tortoise 1.x keeps its
context in a ContextVar that tasks copy at creation); then the exchange, the services, Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import BaseStorage
from aiohttp import web
from redis.asyncio import Redis

from bot.db.config import connection_label
from bot.db.repositories import OcoGroupRepository, OrderRepository
from bot.db.repositories.dashboard import DashboardRepository
from bot.domain.strategy import StrategyParams
from bot.exchange.base import Exchange
from bot.exchange.factory import build_exchange
from bot.jobs.backfill_job import run_backfill_task
from bot.jobs.registry import job_definitions
from bot.jobs.scheduler import JobScheduler
from bot.jobs.sync_job import make_sync_job
from bot.sandbox import SandboxHandle
from bot.services.actions import ActionService
from bot.services.alerts import AlertsService
from bot.services.analysis import AnalysisService
from bot.services.audited_exchange import AuditedExchange
from bot.services.auto_orders import AutoOrderService
from bot.services.change_relay import RedisChangeRelay
from bot.services.circuit import CircuitBreaker, GuardedExchange
from bot.services.daily_report import DailyReportService
from bot.services.demo import demo_settings, is_demo, replay_from_ms, seed_demo_watchlist
from bot.services.events import EventBus
from bot.services.fenced_exchange import FencedExchange
from bot.services.leadership import Leadership, RedisLeadership, SoleLeadership, leader_duty
from bot.services.locks import JobLock, build_job_lock
from bot.services.metered_exchange import MeteredExchange
from bot.services.metrics import Metrics
from bot.services.oco_health import OcoHealthService
from bot.services.orders_overview import OrdersOverviewService
from bot.services.portfolio import PortfolioService
from bot.services.portfolio_overview import PortfolioOverviewService
from bot.services.prices import PriceBoard
from bot.services.protection import ProtectionService
from bot.services.retention import RetentionService
from bot.services.signal_board import SignalBoard
from bot.services.signals import SignalService
from bot.services.sync import SyncService
from bot.services.update_ledger import UpdateLedger
from bot.services.user_settings import SettingDefaults, UserSettingsService
from bot.services.watchlist import WatchlistService
from bot.settings import Settings, unusable_address
from bot.telegram.daily_report import DailyReportSender
from bot.telegram.notifier import Notifier
from bot.telegram.webhook import (
    WebhookReceiver,
    add_webhook_route,
    delete_stale_webhook,
    register_webhook,
    webhook_path,
    webhook_secret,
)
from webapp.app import build_web_app
from webapp.context import MINIAPP_KEY, MiniApp, MiniAppConfig
from webapp.health import HealthReport, Probe
from webapp.metrics import add_metrics_route

log = logging.getLogger(__name__)
# How long a job still running at shutdown may take to finish before it is cancelled: a sync cycle
# takes about a second, and whatever a cancel cuts short is resumed by the next start.
SHUTDOWN_GRACE_SECONDS = 1.5
Closer = Callable[[], Awaitable[object]]
Job = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Services:
    """The use cases; Telegram handlers receive them by parameter name (aiogram's injection)."""

    exchange: Exchange
    events: EventBus
    orders: OrderRepository
    sync: SyncService
    protection: ProtectionService
    portfolio: PortfolioService
    oco_health: OcoHealthService
    signals: SignalService
    watchlist: WatchlistService
    user_settings: UserSettingsService
    signal_board: SignalBoard
    alerts: AlertsService
    analysis_service: AnalysisService
    prices: PriceBoard
    actions: ActionService
    orders_overview: OrdersOverviewService
    portfolio_overview: PortfolioOverviewService
    retention: RetentionService

    def handler_dependencies(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class Telegram:
    bot: Bot
    dispatcher: Dispatcher
    notifier: Notifier
    daily_report: DailyReportSender
    sandbox: SandboxHandle | None
    webhook: WebhookReceiver | None = None      # webhook mode (TELEGRAM_WEBHOOK_URL); None: polling


@dataclass
class Application:
    settings: Settings
    events: EventBus
    lock: JobLock
    redis: Redis | None
    exchange: Exchange
    services: Services
    scheduler: JobScheduler
    health: HealthReport
    web_app: web.Application
    telegram: Telegram
    closers: list[Closer] = field(default_factory=list)
    leadership: Leadership = field(default_factory=SoleLeadership)
    metrics: Metrics = field(default_factory=Metrics)
    demo: bool = False                      # the offline demo (bot.services.demo)
    web_url: str | None = None
    _runner: web.AppRunner | None = None
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _duties: dict[str, asyncio.Task[Any]] = field(default_factory=dict)
    _polling_failed: asyncio.Task[Any] | None = None
    _ended: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        """Serve the web app, then compete for leadership; the leader's duties (the jobs, the exchange's
        order stream, Telegram polling) start when this replica is elected and stop when it is not.
        Without Redis the one process is the leader from the start."""
        # Open requests get a moment to finish at shutdown, not aiohttp's 60 s (Ctrl-C ends us within 5 s).
        self._runner = web.AppRunner(self.web_app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.WEBAPP_HOST, self.settings.WEBAPP_PORT)
        try:
            await site.start()
        except OSError as exc:
            raise unusable_address(exc, self.settings.WEBAPP_HOST, self.settings.WEBAPP_PORT,
                                   host_setting="WEBAPP_HOST", port_setting="WEBAPP_PORT") from None
        port = self._runner.addresses[0][1] if self._runner.addresses else self.settings.WEBAPP_PORT
        self.web_url = f"http://{self.settings.WEBAPP_HOST}:{port}"
        log.info("web server on %s (health: %s/healthz)", self.web_url, self.web_url)
        self.announce_mini_app()
        if self.demo:
            await self.seed_demo()
        start_exchange = getattr(self.exchange, "start", None)   # the paper exchange's replay clock
        if start_exchange is not None:
            await start_exchange()
        await self.telegram.notifier.start()
        from bot.telegram.setup import register_commands

        await register_commands(self.telegram.bot, self.settings)
        leadership = asyncio.create_task(self.leadership.run(self._elected, self._deposed), name="leadership")
        leadership.add_done_callback(self._background_ended)
        self._tasks.append(leadership)
        sandbox = self.telegram.sandbox
        if sandbox is not None:
            from bot.sandbox.chat import run_terminal_chat

            self._tasks.append(asyncio.create_task(run_terminal_chat(
                sandbox.emulator, sandbox.user_id, self.settings.DEFAULT_LANGUAGE), name="sandbox-chat"))

    async def seed_demo(self) -> None:
        """The demo's coins on an empty watchlist, and what to expect, beside the sandbox chat."""
        seeded = await seed_demo_watchlist(set(await self.exchange.instruments()))
        if not seeded:
            return
        trading = ", ".join(c.symbol for c in seeded if c.trade)
        alerting = ", ".join(c.symbol for c in seeded if not c.trade)
        log.info("demo watchlist: %s with automatic buys, %s with alerts", trading, alerting)
        print(f"Demo: bundled 2024 candles, one hour every {self.settings.PAPER_REPLAY_SECONDS} s "
              f"(PAPER_REPLAY_SECONDS). Watching {trading} (automatic paper buys, Trade=YES) and {alerting} "
              f"(alerts). The first signals and buys come within about a minute; /watchlist, /signals and "
              f"/orders show them.", flush=True)

    def local_mini_app_url(self) -> str | None:
        """The dashboard on this server, signed for the first allowed (or the sandbox) user: for a browser
        outside Telegram (the sandbox, or no public HTTPS address yet)."""
        if self.web_url is None or (not self.settings.sandbox and self.settings.WEBAPP_PUBLIC_URL):
            return None
        from bot.sandbox.initdata import mini_app_url, sign_init_data

        config = self.web_app[MINIAPP_KEY].config
        init_data = sign_init_data(config.token, config.allowed_users[0],
                                   language_code=self.settings.DEFAULT_LANGUAGE)
        return mini_app_url(self.web_url, init_data)

    def announce_mini_app(self) -> None:
        url = self.local_mini_app_url()
        if url is not None:
            # stdout, beside the sandbox chat: the address to open in a browser (valid 24 h).
            print(f"Mini App dashboard (open in a browser, valid 24 h): {url}", flush=True)

    def jobs(self) -> list[tuple[str, str, Job]]:
        sync = make_sync_job(self.services.sync, self.lock, ttl_seconds=self.settings.LEADER_LOCK_SECONDS)
        return job_definitions(
            self.settings, sync=sync,
            market=self.services.signals.update_market, signals=self.services.signals.monitor,
            daily_report=self.telegram.daily_report.run, retention=self.services.retention.run)

    async def _elected(self, token: int) -> None:
        """Take up the leader's duties; with replicas the first sync runs at once and catches up on
        what happened while nobody (or a dead leader) watched."""
        with leader_duty(self.leadership):
            jobs = self.jobs()
            for name, spec, job in jobs:
                self.scheduler.add(name, spec, job)
            self._duties["order-stream"] = asyncio.create_task(self.services.sync.follow_order_stream(),
                                                               name="order-stream")
            # The 180-day back-fill walks beside the cycles at the history pace (`python -m bot backfill`
            # walks it in the foreground instead).
            lease = self.settings.LEADER_LOCK_SECONDS
            self._duties["history-backfill"] = asyncio.create_task(
                run_backfill_task(self.services.sync, self.lock, ttl_seconds=lease), name="history-backfill")
            # A report missed while no leader ran goes out now (when its time passed < 6 h ago), under
            # the same job lock as the minute ticks.
            self._duties["daily-report-catch-up"] = asyncio.create_task(
                self.scheduler.run_now("daily-report", self.telegram.daily_report.run), name="daily-report-catch-up")
            if self.redis is not None:
                # Taking over from another replica: catch up now, not at the next tick; a dead
                # leader's job locks outlive it by up to one lease, so wait them out, don't skip.
                # (One process alone keeps its first sync at the first tick, as always.)
                catch_up = make_sync_job(self.services.sync, self.lock, ttl_seconds=lease, wait_seconds=lease * 1.5)
                self._duties["catch-up"] = asyncio.create_task(
                    self.scheduler.run_now("sync", catch_up, wait_seconds=lease * 1.5), name="catch-up")
        telegram = self.telegram
        if telegram.webhook is not None:
            # Every replica answers the webhook; the leader (re)registers it.
            self._duties["telegram-webhook"] = asyncio.create_task(register_webhook(
                telegram.bot, telegram.dispatcher, self.settings.TELEGRAM_WEBHOOK_URL or "",
                webhook_secret(self.settings, telegram.bot.token)), name="telegram-webhook")
            return
        # Outside the duty: a user's own action is answered whoever leads by then.
        polling = asyncio.create_task(self._poll(), name="telegram-polling")
        polling.add_done_callback(self._polling_ended)
        self._duties["telegram-polling"] = polling

    async def _poll(self) -> None:
        try:
            await delete_stale_webhook(self.telegram.bot)
        except Exception as exc:
            log.warning("could not check for a webhook left from before (%s); polling anyway", type(exc).__name__)
        await self.telegram.dispatcher.start_polling(self.telegram.bot, handle_signals=False, close_bot_session=False)

    async def _deposed(self, token: int) -> None:
        # At once: whatever the duties would still do is fenced off anyway.
        await self._stop_duties(grace_seconds=0)

    async def _stop_duties(self, *, grace_seconds: float) -> None:
        polling = self._duties.pop("telegram-polling", None)
        if polling is not None and not polling.done():
            with contextlib.suppress(RuntimeError):
                await self.telegram.dispatcher.stop_polling()
        # The stream and the back-fill stop at once (both resume where they were); catch-up runs are
        # jobs, given the same grace as the scheduled ones.
        endless = [self._duties.pop(name) for name in ("order-stream", "history-backfill") if name in self._duties]
        for task in endless:
            task.cancel()
        await self.scheduler.stop(grace_seconds=grace_seconds)
        tasks = list(self._duties.values())
        self._duties.clear()
        running = [t for t in tasks if not t.done()]
        if running and grace_seconds > 0:
            await asyncio.wait(running, timeout=grace_seconds)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, *endless, return_exceptions=True)

    def _polling_ended(self, task: asyncio.Task[Any]) -> None:
        if self._duties.get("telegram-polling") is task:      # not stopped by us: it failed or ended
            self._polling_failed = task
            self._ended.set()

    def _background_ended(self, task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("leadership loop ended: %s", type(task.exception()).__name__, exc_info=task.exception())
        self._ended.set()

    def following_order_stream(self) -> bool:
        stream = self._duties.get("order-stream")
        return stream is not None and not stream.done()

    def polling_failure(self) -> asyncio.Task[Any] | None:
        """Telegram polling, if it ended on its own (the process then stops)."""
        return self._polling_failed

    async def wait_background(self) -> None:
        """Until something the process cannot do without ends: Telegram polling on the leader, or
        the leadership loop."""
        await self._ended.wait()

    async def shutdown(self) -> None:
        log.info("shutting down")
        # The duties first, while the lease is still renewed (a job finishing within the grace period
        # still commits as the leader's); then the leadership loop, then the lease itself.
        await self._stop_duties(grace_seconds=SHUTDOWN_GRACE_SECONDS)
        for task in self._tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._stop_duties(grace_seconds=0)           # elected meanwhile: nothing is left running
        await self.leadership.release()      # the next replica takes over now, not after the lease
        for closer in reversed(self.closers):
            try:
                await closer()
            except Exception:
                log.exception("error while closing")
        if self._runner is not None:
            await self._runner.cleanup()


def build_services(settings: Settings, exchange: Exchange, events: EventBus, *, account: str = "main") -> Services:
    orders = OrderRepository(exchange.mode, account)
    protection = ProtectionService(exchange, orders, events)
    sync = SyncService(exchange, events, orders, protection)
    strategy = StrategyParams(
        rsi_buy=settings.STRATEGY_RSI_BUY, rsi_sell=settings.STRATEGY_RSI_SELL,
        min_volume_ratio=settings.STRATEGY_MIN_VOLUME_RATIO, rebuy_move_percent=settings.STRATEGY_REBUY_MOVE_PERCENT)
    signals = SignalService(exchange, events, strategy, auto_orders=AutoOrderService(exchange, events))
    portfolio = PortfolioService(exchange.mode)
    oco_health = OcoHealthService(exchange.mode)
    prices = PriceBoard(exchange)
    user_settings = UserSettingsService(SettingDefaults(
        language=settings.DEFAULT_LANGUAGE, timezone=settings.TIMEZONE, daily_alert_time=settings.DAILY_ALERT_TIME))
    actions = ActionService(exchange, protection, portfolio, user_settings,
                            allowed_users=settings.TELEGRAM_ALLOWED_USERS, mirror=sync.ingest)
    watchlist = WatchlistService(exchange, events=events)
    return Services(exchange=exchange, events=events, orders=orders, sync=sync, protection=protection,
                    portfolio=portfolio, oco_health=oco_health, signals=signals,
                    watchlist=watchlist, user_settings=user_settings,
                    analysis_service=AnalysisService(exchange, watchlist, orders),
                    signal_board=SignalBoard(exchange.mode), prices=prices, actions=actions,
                    orders_overview=OrdersOverviewService(exchange.mode, prices),
                    portfolio_overview=PortfolioOverviewService(portfolio),
                    retention=RetentionService(settings.SIGNAL_RETENTION_DAYS),
                    alerts=AlertsService(default_timezone=settings.TIMEZONE))


async def build_application(settings: Settings, *, exchange: Exchange | None = None) -> Application:
    """Everything from settings, in one call (the database must already be initialised)."""
    if settings.sandbox and not settings.TELEGRAM_ALLOWED_USERS:
        from bot.sandbox import DEMO_USER_ID

        # The sandbox's own chat user is the only one who can talk to it, for every part alike
        # (commands, actions, the Mini App), not only the dispatcher.
        settings = settings.model_copy(update={"TELEGRAM_ALLOWED_USERS": (DEMO_USER_ID,)})
    demo = is_demo(settings)
    if demo:
        settings = demo_settings(settings)
    closers: list[Closer] = []
    redis: Redis | None = None
    leadership: Leadership = SoleLeadership()
    if settings.REDIS_URL:
        # Bounded waits: a Redis that stops answering is an error to handle, not a hang.
        redis = Redis.from_url(settings.REDIS_URL, decode_responses=True, socket_timeout=5, socket_connect_timeout=5)
        closers.append(redis.aclose)
        leadership = RedisLeadership(redis, ttl_seconds=settings.LEADER_LOCK_SECONDS)
    # Shared with other processes on this deployment (Redis, else the database): a replica, or
    # `python -m bot backfill`, takes the same sync lock.
    lock: JobLock = build_job_lock(redis, "bot")
    metrics = Metrics()
    events = EventBus()
    # Outermost the circuit breaker (a write it refuses was never sent: no audit row); metered
    # innermost (what really reached the exchange); fenced inside audited: a refused stale write never
    # reaches the exchange nor the audit log.
    breaker = CircuitBreaker(failures=settings.EXCHANGE_CIRCUIT_FAILURES,
                             retry_s=settings.EXCHANGE_CIRCUIT_RETRY_SECONDS)
    if exchange is None:
        exchange = build_exchange(settings, **demo_exchange(demo))
    audited = GuardedExchange(AuditedExchange(FencedExchange(
        MeteredExchange(exchange, metrics), storage_probe=database_probe(settings.DATABASE_URL))), breaker, events,
        tell=lambda: leadership.is_leader)
    closers.append(audited.close)
    services = build_services(settings, audited, events)
    scheduler = JobScheduler(lock=lock, timezone=settings.TIMEZONE, leadership=leadership,
                             lock_seconds=settings.LEADER_LOCK_SECONDS, observer=metrics.job_finished)
    health = HealthReport(mode=settings.mode, jobs=lambda: {n: s.as_dict() for n, s in scheduler.status.items()})
    health.details["leadership"] = leadership.as_dict
    health.details["exchange_circuit"] = breaker.as_dict
    health.probes["database"] = database_probe(settings.DATABASE_URL)
    health.probes["exchange"] = exchange_probe(audited)
    if redis is not None:
        health.probes["redis"] = redis_probe(redis)
    try:
        telegram = await build_telegram(settings, services, redis, closers)
    except BaseException:
        for closer in reversed(closers):
            with contextlib.suppress(Exception):
                await closer()
        raise
    health.probes["telegram"] = telegram_probe(telegram.bot)
    web_app = build_web_app(health, build_mini_app(settings, services, telegram, health, redis))
    add_metrics_route(web_app, metrics.exposition)
    if telegram.webhook is not None:
        add_webhook_route(web_app, webhook_path(settings.TELEGRAM_WEBHOOK_URL or ""), telegram.webhook)
    app = Application(settings=settings, events=events, lock=lock, redis=redis, exchange=audited,
                      services=services, scheduler=scheduler, health=health, web_app=web_app,
                      telegram=telegram, closers=closers, leadership=leadership, metrics=metrics, demo=demo)
    watch(app)
    return app


def demo_exchange(demo: bool) -> dict[str, Any]:
    """The demo's replay starts where the bundled candles soon show the strategy at work."""
    return {"replay_from_ms": replay_from_ms()} if demo else {}


def watch(app: Application) -> None:
    """What /metrics reads from its owners at scrape time, and the reaction latencies from the events."""
    app.metrics.watch(leadership=app.leadership, exchange=app.exchange, send_queue=app.telegram.notifier.queue,
                      following_order_stream=app.following_order_stream,
                      circuit=getattr(app.exchange, "breaker", None))
    app.metrics.follow_reactions(app.events, app.services.orders)


def build_mini_app(settings: Settings, services: Services, telegram: Telegram, health: HealthReport,
                   redis: Redis | None = None) -> MiniApp:
    """The dashboard's dependencies: initData is signed with the token the bot really uses (the
    sandbox's when there is no TELEGRAM_BOT_TOKEN), for the users the bot answers."""
    sandbox = telegram.sandbox
    if sandbox is not None:
        token = sandbox.token
        allowed = settings.TELEGRAM_ALLOWED_USERS
    else:
        token = settings.TELEGRAM_BOT_TOKEN.get_secret_value() if settings.TELEGRAM_BOT_TOKEN else ""
        allowed = settings.TELEGRAM_ALLOWED_USERS
    config = MiniAppConfig(token=token, allowed_users=tuple(allowed), mode=settings.mode,
                           default_language=settings.DEFAULT_LANGUAGE, timezone=settings.TIMEZONE)
    return MiniApp(config=config, repository=DashboardRepository(services.exchange.mode), exchange=services.exchange,
                   events=services.events, portfolio=services.portfolio, oco_health=services.oco_health,
                   health=health, watchlist=services.watchlist, actions=services.actions,
                   relay=RedisChangeRelay(redis) if redis is not None else None)


async def build_telegram(settings: Settings, services: Services, redis: Redis | None,
                         closers: list[Closer]) -> Telegram:
    from bot.telegram.setup import build_bot, build_dispatcher, build_i18n

    api_url = settings.TELEGRAM_API_URL
    token: str | None = None
    sandbox: SandboxHandle | None = None
    if settings.sandbox:
        from bot.sandbox import start_sandbox

        sandbox = await start_sandbox(settings)
        closers.append(sandbox.close)
        api_url, token = sandbox.url, sandbox.token
        log.info("no TELEGRAM_BOT_TOKEN: local Telegram sandbox at %s", api_url)
    # With Redis, replicas answering webhooks share one flood budget for the token.
    bot = build_bot(settings, api_url=api_url, token=token, redis=redis)
    closers.append(bot.session.close)
    dispatcher = build_dispatcher(settings, services=services.handler_dependencies(),
                                  storage=fsm_storage(settings, redis))
    notifier = Notifier(bot, services.events, build_i18n(settings.DEFAULT_LANGUAGE), settings.TELEGRAM_ALLOWED_USERS,
                        settings.DEFAULT_LANGUAGE, default_timezone=settings.TIMEZONE,
                        groups=OcoGroupRepository(services.orders.mode, services.orders.account))
    closers.append(notifier.close)
    reports = DailyReportService(services.orders_overview, services.portfolio_overview, services.user_settings,
                                 allowed_users=settings.TELEGRAM_ALLOWED_USERS)
    daily_report = DailyReportSender(reports, notifier, build_i18n(settings.DEFAULT_LANGUAGE),
                                     settings.DEFAULT_LANGUAGE)
    webhook: WebhookReceiver | None = None
    if settings.TELEGRAM_WEBHOOK_URL and sandbox is None:
        webhook = WebhookReceiver(bot, dispatcher, webhook_secret(settings, bot.token), UpdateLedger(redis))
        closers.append(webhook.close)
    return Telegram(bot=bot, dispatcher=dispatcher, notifier=notifier, daily_report=daily_report, sandbox=sandbox,
                    webhook=webhook)


def fsm_storage(settings: Settings, redis: Redis | None) -> BaseStorage:
    if redis is not None:
        from aiogram.fsm.storage.redis import RedisStorage

        # A separate client: the dispatcher closes its storage's connection pool on shutdown.
        return RedisStorage(Redis.from_url(settings.REDIS_URL or ""))
    from aiogram.fsm.storage.memory import MemoryStorage

    return MemoryStorage()


def database_probe(db_url: str) -> Probe:
    async def probe() -> None:
        from tortoise import Tortoise

        await Tortoise.get_connection(connection_label(db_url)).execute_query("SELECT 1")

    return probe


def redis_probe(redis: Redis) -> Probe:
    async def probe() -> None:
        await redis.ping()

    return probe


def exchange_probe(exchange: Exchange) -> Probe:
    async def probe() -> None:
        await exchange.instruments()

    return probe


def telegram_probe(bot: Bot) -> Probe:
    checked_at: list[float] = []

    async def probe() -> None:
        now = asyncio.get_running_loop().time()
        if checked_at and now - checked_at[0] < 30:
            return
        await bot.get_me()
        checked_at[:] = [now]

    return probe
