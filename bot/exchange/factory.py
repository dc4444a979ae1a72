"""Which exchange the bot talks to. Only LIVE_TRADING=true (exactly) ever builds the live adapter."""

from __future__ import annotations

from typing import Any

from bot.exchange.base import Exchange
from bot.settings import Settings


def build_exchange(settings: Settings, **overrides: Any) -> Exchange:
    if settings.LIVE_TRADING is True:
        try:
            from bot.exchange.cryptocom import CryptoComExchange  # type: ignore[attr-defined]
        except ImportError:
            raise RuntimeError("LIVE_TRADING=true, but this build has no live crypto.com adapter yet; "
                               "set LIVE_TRADING=false to use the paper exchange") from None

        return CryptoComExchange.from_settings(settings, live_trading=True)  # type: ignore[no-any-return]
    from bot.exchange.paper import build_paper_exchange  # type: ignore[attr-defined]

    return build_paper_exchange(settings, **overrides)
