"""The paper exchange (LIVE_TRADING=false)."""

from __future__ import annotations

from pathlib import Path

from bot.exchange.paper.exchange import PaperExchange
from bot.exchange.paper.replay import ReplayMarketData
from bot.settings import Settings, parse_balances

BUNDLED = Path(__file__).resolve().parents[1].parent / "data" / "candles"


def build_paper_exchange(settings: Settings, *, market_data: str | None = None,
                         pace_seconds: float = 5.0) -> PaperExchange:
    source = market_data or settings.MARKET_DATA
    # Public crypto.com market data needs the network; offline, the bundled candles stand in.
    directory = Path(source.removeprefix("replay:")) if source.startswith("replay:") else BUNDLED
    return PaperExchange(ReplayMarketData(directory), parse_balances(settings.PAPER_STARTING_BALANCES),
                         maker_fee_percent=settings.PAPER_MAKER_FEE_PERCENT,
                         taker_fee_percent=settings.PAPER_TAKER_FEE_PERCENT,
                         slippage_percent=settings.PAPER_SLIPPAGE_PERCENT, pace_seconds=pace_seconds)


__all__ = ["PaperExchange", "ReplayMarketData", "build_paper_exchange"]
