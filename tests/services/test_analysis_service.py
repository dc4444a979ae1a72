"""AnalysisService on the paper exchange: words, chart, caching per candle, too little history."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.db.repositories import OrderRepository
from bot.domain.input_rules import Invalid
from bot.exchange.marketdata import ReplayMarketData
from bot.exchange.paper import BUNDLED, build_paper_exchange
from bot.services.analysis import Analysis, AnalysisService
from bot.services.charts import HEIGHT_PX, WIDTH_PX, png_size
from bot.services.watchlist import WatchlistService
from bot.settings import load_settings


def service_over(directory: Path, warmup: int = 400) -> tuple[AnalysisService, ReplayMarketData]:
    feed = ReplayMarketData(directory, warmup=warmup)
    exchange = build_paper_exchange(load_settings(), market_data=feed, store=None, pace_seconds=0)
    return AnalysisService(exchange, WatchlistService(exchange), OrderRepository("paper")), feed


async def test_analysis_is_computed_and_drawn_once_per_candle(db: str) -> None:
    service, feed = service_over(BUNDLED)
    first = await service.analyze("BTC_USDT")
    again = await service.analyze("btc/usdt")
    assert isinstance(first, Analysis) and isinstance(again, Analysis)
    assert first.frame_key == again.frame_key and first.brief == again.brief
    assert len(first.brief) == 6          # trend, RSI, MACD, Bollinger, ATR, volume
    chart = await service.chart(first)
    assert await service.chart(again) is chart
    assert png_size(chart.png) == (WIDTH_PX, HEIGHT_PX) == (chart.width, chart.height)
    await feed.step()                                  # a new candle closes
    newer = await service.analyze("BTC_USDT")
    assert isinstance(newer, Analysis) and newer.frame_key != first.frame_key
    assert (await service.chart(newer)) is not chart


async def test_the_wider_set_is_read(db: str) -> None:
    service, _ = service_over(BUNDLED)
    analysis = await service.analyze("ETH_USDT")
    assert isinstance(analysis, Analysis)
    assert {f.key.split("_")[0] for f in analysis.wider} >= {"adx", "stochrsi", "obv", "supertrend", "tenkan"}


async def test_too_little_history_is_refused(db: str, tmp_path: Path) -> None:
    lines = (BUNDLED / "BTC_USDT-1h.csv").read_text().splitlines()[:45]
    (tmp_path / "NEW_USDT-1h.csv").write_text("\n".join(lines) + "\n")
    service, _ = service_over(tmp_path, warmup=40)
    refused = await service.analyze("NEW_USDT")
    assert isinstance(refused, Invalid) and refused.key == "not_enough_history"
    assert refused.values["symbol"] == "NEW_USDT" and int(refused.values["count"]) < 60


@pytest.mark.parametrize("text", ["NOPE", ""])
async def test_chart_for_an_unknown_symbol(db: str, text: str) -> None:
    service, _ = service_over(BUNDLED)
    refused = await service.chart_for(text)
    assert isinstance(refused, Invalid) and refused.key == "unknown_symbol"
