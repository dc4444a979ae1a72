"""Which exchange the bot talks to. Only LIVE_TRADING=true (exactly) ever builds the live adapter."""

from __future__ import annotations

from typing import Any

from bot.exchange.base import Exchange
from bot.settings import Settings


def build_exchange(settings: Settings, **overrides: Any) -> Exchange:
    if settings.LIVE_TRADING is True:
        from bot.exchange.cryptocom import CryptoComExchange

        return CryptoComExchange.from_settings(settings, live_trading=True)
    from bot.exchange.paper import build_paper_exchange

    return build_paper_exchange(settings, **overrides)
