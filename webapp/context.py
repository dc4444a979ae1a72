"""What the Mini App's routes need, handed in by the composition root (nothing here builds a service)."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from bot.db.repositories.dashboard import DashboardRepository
from bot.exchange.base import Exchange
from bot.services.actions import ActionService
from bot.services.change_relay import RedisChangeRelay
from bot.services.events import EventBus
from bot.services.oco_health import OcoHealthService
from bot.services.portfolio import PortfolioService
from bot.services.watchlist import WatchlistService
from webapp.health import HealthReport


@dataclass(frozen=True)
class MiniAppConfig:
    token: str = field(repr=False)          # the bot's token: the key initData is signed with
    allowed_users: tuple[int, ...]
    mode: str                                # "paper" | "live"
    default_language: str = "es"
    timezone: str = "UTC"


@dataclass
class MiniApp:
    config: MiniAppConfig
    repository: DashboardRepository
    exchange: Exchange
    events: EventBus
    portfolio: PortfolioService
    oco_health: OcoHealthService
    watchlist: WatchlistService        # the bot's rules and words for watchlist edits
    actions: ActionService             # preview + confirm, shared with the bot's buttons
    health: HealthReport | None = None
    relay: RedisChangeRelay | None = None   # with REDIS_URL: other replicas' changes refresh pages here too


MINIAPP_KEY = web.AppKey("miniapp", MiniApp)


def miniapp_of(request: web.Request) -> MiniApp:
    return request.app[MINIAPP_KEY]
