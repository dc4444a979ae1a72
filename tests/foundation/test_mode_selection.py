"""Only LIVE_TRADING=true (exactly) may ever build the live adapter."""

from __future__ import annotations

import pytest

from bot.exchange.factory import build_exchange
from bot.settings import load_settings


def test_keys_without_live_trading_still_give_the_paper_exchange(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXCHANGE_CUSTOM_API_KEY", "real-looking-key")
    monkeypatch.setenv("EXCHANGE_CUSTOM_API_SECRET", "real-looking-secret")
    monkeypatch.setenv("EXCHANGE_API_URL", "http://127.0.0.1:9/exchange/v1")
    for value in ("false", None):
        if value is None:
            monkeypatch.delenv("LIVE_TRADING", raising=False)
        else:
            monkeypatch.setenv("LIVE_TRADING", value)
        exchange = build_exchange(load_settings(), market_data="replay:bot/data/candles")
        assert exchange.name == "paper" and exchange.mode == "paper"
