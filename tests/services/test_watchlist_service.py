"""WatchlistService: the rules the bot's conversation and the Mini App's PATCH share."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.db.models import WatchlistEntry
from bot.domain.input_rules import Invalid, NumberField
from bot.domain.instrument import Instrument
from bot.services.watchlist import CoinSettings, Flag, WatchlistService, normalise_symbol, suggest_symbols
from bot.settings import load_settings
from tests.telegram.market_harness import paper_exchange

D = Decimal
pytestmark = pytest.mark.storage


def listed(*symbols: str, untradable: tuple[str, ...] = ()) -> dict[str, Instrument]:
    return {s: Instrument(s, *s.split("_"), D("0.01"), D("0.0001"), tradable=s not in untradable) for s in symbols}


LISTED = listed("BTC_USDT", "BTC_USD", "ETH_USDT", "ETH_BTC", "SOL_USDT", "CRO_USD")


@pytest.mark.parametrize("typed", ["BTC_USDT", "btc_usdt", "btc/usdt", "BTC-USDT", " btc usdt "])
def test_case_and_separators_name_the_instrument(typed: str) -> None:
    assert suggest_symbols(typed, LISTED).symbol == "BTC_USDT"


@pytest.mark.parametrize(("typed", "suggestions"), [
    ("BTCUSDT", ("BTC_USDT", "BTC_USD")),
    ("btc", ("BTC_USDT", "BTC_USD")),
    ("CRO", ("CRO_USD",)),
    ("ETH_USD", ("ETH_USDT", "ETH_BTC")),
    ("SOL_USTD", ("SOL_USDT",)),
])
def test_near_misses_are_suggested_not_replaced(typed: str, suggestions: tuple[str, ...]) -> None:
    found = suggest_symbols(typed, LISTED)
    assert found.symbol is None and found.suggestions == suggestions


def test_untradable_instruments_are_neither_accepted_nor_suggested() -> None:
    instruments = listed("BTC_USDT", "LUNA_USDT", untradable=("LUNA_USDT",))
    assert suggest_symbols("LUNA_USDT", instruments).symbol is None
    assert suggest_symbols("luna", instruments).suggestions == ()


def test_normalise_symbol() -> None:
    assert normalise_symbol(" eth.usdt ") == "ETH_USDT"


@pytest.fixture
async def service(db: str) -> WatchlistService:
    return WatchlistService(paper_exchange(load_settings()))


async def test_add_toggle_set_and_remove(service: WatchlistService) -> None:
    added = await service.add("eth", stop_loss_percent=D(2))
    assert isinstance(added, Invalid) and added.key == "unknown_symbol" and added.suggestions == ("ETH_USDT",)
    added = await service.add("ETH_USDT", stop_loss_percent=D(2))
    assert added == CoinSettings("ETH_USDT", False, False, False, D(0), D(2), D(3))
    assert (await service.add("eth/usdt")) == Invalid.of("already_watched", field="symbol", symbol="ETH_USDT")
    toggled = await service.toggle("ETH_USDT", Flag.ALERT)
    assert isinstance(toggled, CoinSettings) and toggled.alert is True
    changed = await service.set_number("ETH_USDT", NumberField.AMOUNT, "1.500", locale="es")
    assert isinstance(changed, CoinSettings) and changed.amount_usd == D(1500)
    assert await service.remove("ETH_USDT") is None
    assert (await service.remove("ETH_USDT")) == Invalid.of("not_watched", field="symbol", symbol="ETH_USDT")
    assert (await service.toggle("ETH_USDT", Flag.TRADE)) == Invalid.of("not_watched", field="symbol",
                                                                        symbol="ETH_USDT")


async def test_update_checks_every_value_before_writing_any(service: WatchlistService) -> None:
    await WatchlistEntry.create(symbol="BTC_USDT", amount_usd=D(100))
    refused = await service.update("BTC_USDT", {"trade": True, "amount_usd": "50", "stop_loss_percent": "0"})
    assert isinstance(refused, Invalid) and (refused.key, refused.field) == ("not_positive", "stop_loss_percent")
    row = await WatchlistEntry.get(symbol="BTC_USDT")
    assert row.trade_enabled is False and row.amount_usd == D(100)
    updated = await service.update("BTC_USDT", {"trade": "yes", "margin": False, "amount_usd": 50,
                                                "take_profit_percent": "4.5"})
    assert updated == CoinSettings("BTC_USDT", True, False, False, D(50), D(3), D("4.5"))
    unknown = await service.update("BTC_USDT", {"leverage": 10})
    assert isinstance(unknown, Invalid) and unknown.key == "unknown_setting"


async def test_instruments_are_asked_once_per_ten_minutes(db: str) -> None:
    now = [0.0]
    exchange = paper_exchange(load_settings())
    calls: list[int] = []
    original = exchange.instruments

    async def counted() -> dict[str, Instrument]:
        calls.append(1)
        return await original()

    exchange.instruments = counted  # type: ignore[method-assign]
    service = WatchlistService(exchange, clock=lambda: now[0])
    await service.lookup("BTC")
    await service.lookup("ETH")
    now[0] = 601
    await service.lookup("SOL")
    assert len(calls) == 2
