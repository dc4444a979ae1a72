"""The paper exchange (LIVE_TRADING=false): the matching engine over replayed or public market data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.exchange.marketdata import ExchangePublicMarketData, MarketData, ReplayMarketData
from bot.exchange.paper.exchange import PaperExchange
from bot.exchange.paper.store import PaperStore
from bot.settings import Settings, SettingsError, parse_balances

BUNDLED = Path(__file__).resolve().parents[2] / "data" / "candles"
PUBLIC_API_URL = "https://api.crypto.com/exchange/v1"


def market_data_for(source: str, settings: Settings, *, replay_from_ms: int | None = None) -> MarketData:
    """`replay:DIR` -> the candle files in DIR (first showing the candle opened at `replay_from_ms`,
    when given); `exchange` -> crypto.com's public REST data."""
    if source.startswith("replay:"):
        folder = Path(source.removeprefix("replay:"))
        if not folder.is_dir():
            raise SettingsError(f"MARKET_DATA: replay folder {folder} does not exist")
        try:
            return ReplayMarketData(folder, first_candle_ms=replay_from_ms)
        except FileNotFoundError as exc:        # a folder without candle files
            raise SettingsError(f"MARKET_DATA: {exc}") from None
    # Public endpoints only: the paper exchange never needs keys. A simulator URL works as well.
    return ExchangePublicMarketData(settings.EXCHANGE_API_URL or PUBLIC_API_URL)


def build_paper_exchange(settings: Settings, *, market_data: MarketData | str | None = None,
                         clock: Callable[[], int] | None = None, pace_seconds: float | None = None,
                         store: PaperStore | bool | None = True, replay_from_ms: int | None = None) -> PaperExchange:
    """The composition root's paper exchange. `store=True` keeps its state in the database
    (initialised before `start()`); pass `store=None` for a memory-only exchange. A replay steps one
    candle every PAPER_REPLAY_SECONDS; public market data is polled every 15 s."""
    feed = market_data if not isinstance(market_data, (str, type(None))) else \
        market_data_for(market_data or settings.MARKET_DATA, settings, replay_from_ms=replay_from_ms)
    pace = pace_seconds if pace_seconds is not None else (
        float(settings.PAPER_REPLAY_SECONDS) if isinstance(feed, ReplayMarketData) else 15.0)
    return PaperExchange(feed, parse_balances(settings.PAPER_STARTING_BALANCES),
                         maker_fee_percent=settings.PAPER_MAKER_FEE_PERCENT,
                         taker_fee_percent=settings.PAPER_TAKER_FEE_PERCENT,
                         slippage_percent=settings.PAPER_SLIPPAGE_PERCENT, pace_seconds=pace,
                         store=PaperStore() if store is True else (store or None), clock=clock)


__all__ = ["BUNDLED", "ExchangePublicMarketData", "MarketData", "PaperExchange", "PaperStore",
           "ReplayMarketData", "build_paper_exchange", "market_data_for"]
