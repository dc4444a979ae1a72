"""Which exchange the bot talks to. Only LIVE_TRADING=true (exactly) ever builds the live adapter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.exchange.base import Exchange
from bot.settings import Settings

BUNDLED_CANDLES = Path(__file__).resolve().parents[1] / "data" / "candles"


def market_data_source(settings: Settings) -> str:
    """The sandbox runs offline: unless MARKET_DATA was set explicitly, it replays the bundled candles."""
    if settings.sandbox and "MARKET_DATA" not in settings.model_fields_set:
        return f"replay:{BUNDLED_CANDLES}"
    return settings.MARKET_DATA


def build_exchange(settings: Settings, **overrides: Any) -> Exchange:
    if settings.LIVE_TRADING is True:
        from bot.exchange.cryptocom import CryptoComExchange

        return CryptoComExchange.from_settings(settings, live_trading=True)
    from bot.exchange.paper import build_paper_exchange

    overrides.setdefault("market_data", market_data_source(settings))
    return build_paper_exchange(settings, **overrides)
