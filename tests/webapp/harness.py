"""The Mini App under test: the real web application over a migrated database, the crypto.com
simulator behind the live adapter for market data, initData signed like Telegram signs it, and
bulk seeding for the large-history tests."""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from aiohttp import web

from bot.compose import build_services
from bot.db.models import OcoGroupRecord, OrderRecord, PortfolioSnapshot, SignalRecord, WatchlistEntry
from bot.db.repositories.dashboard import DashboardRepository
from bot.exchange.base import Exchange
from bot.sandbox.initdata import sign_init_data
from bot.services.events import EventBus
from bot.settings import load_settings
from webapp.app import build_web_app
from webapp.context import MiniApp, MiniAppConfig
from webapp.health import HealthReport

TOKEN = "123456:TEST-TOKEN"
# The simulator is reached through the live adapter: its rows are "live" rows (of a pretend account).
MODE = "live"
ALLOWED = 4242
STRANGER = 777
D = Decimal
SYMBOLS = ("BTC_USDT", "ETH_USDT", "SOL_USDT", "ADA_USDT")
BASE_NS = 1_760_000_000_000_000_000        # 2025-10-09, a fixed start for seeded history


def init_data(user_id: int = ALLOWED, *, token: str = TOKEN, language: str | None = "en",
              age_s: int = 0) -> str:
    return sign_init_data(token, user_id, language_code=language, auth_date=int(time.time()) - age_s)


def auth(user_id: int = ALLOWED, **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"tma {init_data(user_id, **kwargs)}"}


def build_mini_app(exchange: Exchange, *, events: EventBus | None = None, mode: str = MODE,
                   allowed: tuple[int, ...] = (ALLOWED,), **extra: Any) -> MiniApp:
    """The Mini App over the product's own services, built by the composition root's factory."""
    settings = load_settings(TELEGRAM_ALLOWED_USERS=allowed, DEFAULT_LANGUAGE="es")
    services = build_services(settings, exchange, events or EventBus())
    return MiniApp(config=MiniAppConfig(token=TOKEN, allowed_users=allowed, mode=mode, default_language="es"),
                   repository=DashboardRepository(mode), exchange=exchange, events=services.events,
                   portfolio=services.portfolio, oco_health=services.oco_health, watchlist=services.watchlist,
                   actions=services.actions, **extra)


def build_app(exchange: Exchange, **kwargs: Any) -> web.Application:
    return build_web_app(HealthReport(mode=MODE), build_mini_app(exchange, **kwargs))


@dataclass(frozen=True)
class Seeded:
    count: int
    first_ns: int
    step_ns: int


async def seed_executed(count: int, *, mode: str = MODE, symbols: tuple[str, ...] = SYMBOLS,
                        start_ns: int = BASE_NS, step_ns: int = 60_000_000_000, batch: int = 5000) -> Seeded:
    """`count` executed orders, one a minute from `start_ns`, cycling symbols / sides / statuses."""
    sides = itertools.cycle(("BUY", "SELL", "BUY"))
    statuses = itertools.cycle(("FILLED", "FILLED", "FILLED", "CANCELED"))
    rows = []
    for i in range(count):
        symbol = symbols[i % len(symbols)]
        created_ns = start_ns + i * step_ns
        status = next(statuses)
        quantity = D("0.01") + D(i % 7) / 100
        filled = quantity if status == "FILLED" else quantity / 2
        rows.append(OrderRecord(
            mode=mode, account="main", exchange_order_id=f"X{i:09d}", client_oid=f"seed-{i}", symbol=symbol,
            side=next(sides), order_type="LIMIT", status=status, role="manual", source="manual", quantity=quantity,
            price=D(100 + i % 50), filled_quantity=filled, avg_price=D(100 + i % 50),
            cumulative_value=filled * D(100 + i % 50), fee=D("0.01"), fee_currency="USDT",
            exchange_created_at=datetime.fromtimestamp(created_ns / 1e9, UTC), create_time_ns=created_ns))
        if len(rows) >= batch:
            await OrderRecord.bulk_create(rows)
            rows = []
    if rows:
        await OrderRecord.bulk_create(rows)
    return Seeded(count, start_ns, step_ns)


async def seed_watchlist(*symbols: str) -> None:
    for symbol in symbols:
        await WatchlistEntry.create(symbol=symbol, amount_usd=D(100))


async def seed_snapshots(values: list[Decimal], *, mode: str = MODE, hours_apart: int = 6,
                         positions: list[dict[str, Any]] | None = None) -> None:
    now = datetime.now(UTC)
    for i, value in enumerate(values):
        await PortfolioSnapshot.create(mode=mode, account="main", taken_at=now - timedelta(hours=hours_apart * (
            len(values) - 1 - i)), total_usd=value, unpriced_assets=[], positions=positions or [
            {"asset": "USDT", "quantity": str(value), "price": "1", "usd_value": str(value)}])


async def seed_signal(symbol: str, decision: str, *, price: Decimal = D(100), reasons: list[Any] | None = None,
                      minutes_ago: int = 0) -> None:
    await SignalRecord.create(symbol=symbol, decision=decision, price=price, reasons=reasons or ["rsi 25 < 30"],
                              indicators={"rsi": "25.5", "ema10": "101.2", "volume_ratio": "1.3"},
                              decided_at=datetime.now(UTC) - timedelta(minutes=minutes_ago))


async def seed_group(symbol: str = "BTC_USDT", *, mode: str = MODE, state: str = "active") -> OcoGroupRecord:
    group = await OcoGroupRecord.create(id=f"g-{symbol.lower()}", mode=mode, account="main", symbol=symbol,
                                        entry_exchange_order_id=f"entry-{symbol}", state=state, quantity=D("0.01"),
                                        entry_price=D(100000), stop_loss_price=D(97000), take_profit_price=D(103000),
                                        stop_loss_client_oid=f"sl-{symbol}", take_profit_client_oid=f"tp-{symbol}")
    now_ns = time.time_ns()
    for role, side_type, price in (("stop_loss", "STOP_LOSS", D(97000)), ("take_profit", "TAKE_PROFIT_LIMIT",
                                                                          D(103000))):
        await OrderRecord.create(mode=mode, account="main", exchange_order_id=f"{role}-{symbol}",
                                 client_oid=f"{'sl' if role == 'stop_loss' else 'tp'}-{symbol}", symbol=symbol,
                                 side="SELL", order_type=side_type, status="PENDING", role=role, source="bot",
                                 quantity=D("0.01"), trigger_price=price, price=price, oco_group_id=group.id,
                                 create_time_ns=now_ns)
    return group


def as_json(response_text: str) -> Any:
    return json.loads(response_text)
