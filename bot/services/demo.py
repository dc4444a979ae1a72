"""The offline demo: `make run` with no configuration trades on paper within a few minutes.

Only in the sandbox (no TELEGRAM_BOT_TOKEN, the paper exchange, the bundled candles): an empty
watchlist gets the bundled coins (Alert=YES on all, Trade=YES on three), the replay starts a few
candles before a market-wide drop in the bundled 2024 data, and the jobs run every couple of
replayed candles. What a newcomer sees, at the default PAPER_REPLAY_SECONDS=5: about half a minute
in, RSI falls under 30 on every coin; the Trade=YES coins get an automatic paper BUY (an OTOCO:
stop-loss and take-profit ride with it) under the order rules, the Alert=YES ones a BUY signal with
its reasons, and each is told in the chat. A real bot (a token) or real data never gets any of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from bot.db.repositories.watchlist import WatchlistRepository
from bot.exchange.factory import BUNDLED_CANDLES, market_data_source
from bot.settings import Settings

# The newest candle shown at start. Seven candles later (2024-01-23 09:00 UTC) the market drops:
# RSI(14) under 30 on every bundled coin for three candles or more, on more than half its usual
# volume, and the next candle trades below each close, so a limit buy at the signal's price fills.
DEMO_FIRST_CANDLE = datetime(2024, 1, 23, 2, tzinfo=UTC)
DEMO_AMOUNT_USD = Decimal(100)
# Cron periods the jobs can run at (each divides a minute).
_PERIODS = (5, 6, 10, 12, 15, 20, 30, 60)


@dataclass(frozen=True)
class DemoCoin:
    symbol: str
    trade: bool                 # Trade=YES: automatic buys; every demo coin has Alert=YES


DEMO_COINS = (DemoCoin("BTC_USDT", True), DemoCoin("ETH_USDT", True), DemoCoin("SOL_USDT", True),
              DemoCoin("DOGE_USDT", False), DemoCoin("LINK_USDT", False), DemoCoin("XRP_USDT", False))


def is_demo(settings: Settings) -> bool:
    """The sandbox on paper, replaying the bundled candles: nothing real is watched or traded."""
    return (settings.sandbox and not settings.LIVE_TRADING
            and market_data_source(settings) == f"replay:{BUNDLED_CANDLES}")


def demo_job_seconds(replay_seconds: Decimal) -> int:
    """The jobs look at the market every second replayed candle (a signal lasts a few candles)."""
    wanted = 2 * float(replay_seconds)
    return next((p for p in _PERIODS if p >= wanted), _PERIODS[-1])


def demo_settings(settings: Settings) -> Settings:
    """The demo's job periods, unless set: market, signals and sync follow the replay, not the hour."""
    period = demo_job_seconds(settings.PAPER_REPLAY_SECONDS)
    names = ("MARKET_INTERVAL_SECONDS", "SIGNAL_INTERVAL_SECONDS", "SYNC_INTERVAL_SECONDS")
    return settings.model_copy(update={n: period for n in names if n not in settings.model_fields_set})


def replay_from_ms() -> int:
    return int(DEMO_FIRST_CANDLE.timestamp() * 1000)


async def seed_demo_watchlist(available: set[str], repository: WatchlistRepository | None = None) -> list[DemoCoin]:
    """The demo coins, when the watchlist is empty (a user's own list is never touched)."""
    repository = repository or WatchlistRepository()
    if await repository.all():
        return []
    seeded = [coin for coin in DEMO_COINS if coin.symbol in available]
    for coin in seeded:
        await repository.add(coin.symbol, trade_enabled=coin.trade, alert_enabled=True, amount_usd=DEMO_AMOUNT_USD)
    return seeded
