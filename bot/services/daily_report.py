"""The daily report (the old 08:00 alert): for each allowed user at their report time in their zone,
unprotected positions, OCO problems, the portfolio's total and change, and the bot's health.

Sent once per user and local day, also across restarts and replicas: a day is claimed in the
database (DailyReportSent, unique per user and day) before anything is sent, and the job that asks
runs under the job lock. A report missed while the bot was down goes out at the next start if its
time passed less than 6 hours ago (`due` finds it like any other).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from bot.db.repositories import DailyReportRepository, IndicatorRepository, WatchlistRepository
from bot.domain.daily_report import due_day
from bot.services.orders_overview import OrdersOverview, OrdersOverviewService
from bot.services.portfolio_overview import PortfolioOverview, PortfolioOverviewService
from bot.services.user_settings import UserSettingsService

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DueReport:
    telegram_id: int
    day: date                  # the reader's local day
    language: str | None       # None: never chosen
    timezone: str


@dataclass(frozen=True)
class ReportHealth:
    mode: str
    last_sync: datetime | None        # the last valuation a sync cycle stored
    exchange_reachable: bool
    stale_coins: tuple[str, ...]      # watched coins whose newest indicators are marked stale


@dataclass(frozen=True)
class DailyReport:
    due: DueReport
    orders: OrdersOverview
    portfolio: PortfolioOverview
    health: ReportHealth


class DailyReportService:
    def __init__(self, orders_overview: OrdersOverviewService, portfolio_overview: PortfolioOverviewService,
                 user_settings: UserSettingsService, *, allowed_users: Iterable[int],
                 reports: DailyReportRepository | None = None, watchlist: WatchlistRepository | None = None,
                 indicators: IndicatorRepository | None = None, clock: Clock = _utc_now) -> None:
        self.orders_overview = orders_overview
        self.portfolio_overview = portfolio_overview
        self.user_settings = user_settings
        self.allowed = tuple(allowed_users)
        self.reports = reports or DailyReportRepository()
        self.watchlist = watchlist or WatchlistRepository()
        self.indicators = indicators or IndicatorRepository()
        self.clock = clock
        self._installed_at: datetime | None = None      # read once: it never changes

    async def due(self) -> list[DueReport]:
        """Who should get a report now (whether it was sent already is the claim's business)."""
        now = self.clock()
        if self._installed_at is None:
            self._installed_at = await self.reports.installed_at()
        due = []
        for telegram_id in self.allowed:
            settings = await self.user_settings.get(telegram_id)
            day = due_day(now, settings.timezone, settings.daily_alert_time, since=self._installed_at)
            if day is not None:
                due.append(DueReport(telegram_id, day, settings.language, settings.timezone))
        return due

    async def claim(self, report: DueReport) -> bool:
        """True for the one caller (this process or another replica) that sends this day's report."""
        return await self.reports.claim(report.telegram_id, report.day)

    async def release(self, report: DueReport) -> None:
        await self.reports.release(report.telegram_id, report.day)

    async def build(self, report: DueReport) -> DailyReport:
        orders = await self.orders_overview.overview(refresh_prices=True)
        portfolio = await self.portfolio_overview.overview(self.clock())
        symbols = [entry.symbol for entry in await self.watchlist.all()]
        stale = tuple(sorted(s for s, snapshot in (await self.indicators.latest(symbols)).items() if snapshot.stale))
        health = ReportHealth(mode=orders.mode, last_sync=portfolio.taken_at,
                              exchange_reachable=bool(self.orders_overview.prices.reachable), stale_coins=stale)
        return DailyReport(report, orders, portfolio, health)
