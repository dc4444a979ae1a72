"""A coin with gaps and zero-volume candles (DGB_USDT, real Binance data) is marked stale with its
reason by the real market-update + monitor cycle, and the healthy coins still get fresh snapshots
and decisions.

The paper exchange's replay runs every file on one clock, and DGB's candles are from 2020-2021
while BTC's and ETH's are from 2024, so this test uses a small read-only Exchange that serves each
coin's own file up to that coin's own "now".
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from bot.db.models import IndicatorSnapshot, SignalRecord, StrategyState, WatchlistEntry
from bot.domain.instrument import Instrument
from bot.domain.orders import Order
from bot.domain.strategy import StrategyParams
from bot.exchange.base import Balance, Candle, Exchange, HistoryPage, OrderUpdate, Ticker
from bot.exchange.marketdata import instrument_for, load_candles
from bot.services.events import EventBus
from bot.services.signals import SignalService
from tests.conftest import BUNDLED_CANDLES, SHARED_CANDLES

DGB_FILE = SHARED_CANDLES / "DGB_USDT-1h.csv"
ZERO_VOLUME_AT = 1608559200000      # 2020-12-21 14:00 UTC: a flat zero-volume hour before a maintenance gap
AFTER_GAP_AT = 1608573600000        # 2020-12-21 18:00 UTC: the first candle after the 3 missing hours


class CandleFileExchange:
    """Read-only `Exchange` over candle files: each coin at its own moment (by default, its last
    candle). Orders are refused: nothing here trades."""
    name = "files"
    mode = "paper"

    def __init__(self, files: dict[str, Any]) -> None:
        self.series = {symbol: load_candles(path) for symbol, path in files.items()}
        self.until: dict[str, int] = {}

    def show_until(self, symbol: str, timestamp_ms: int) -> None:
        self.until[symbol] = timestamp_ms

    def _visible(self, symbol: str) -> list[Candle]:
        candles = self.series[symbol]
        if symbol not in self.until:
            return candles
        return candles[:bisect_right([c.timestamp_ms for c in candles], self.until[symbol])]

    async def instruments(self) -> dict[str, Instrument]:
        return {s: instrument_for(s, c) for s, c in self.series.items()}

    async def instrument(self, symbol: str) -> Instrument:
        return (await self.instruments())[symbol]

    async def ticker(self, symbol: str) -> Ticker:
        return (await self.tickers())[symbol]

    async def tickers(self) -> dict[str, Ticker]:
        return {s: Ticker(s, self._visible(s)[-1].close) for s in self.series}

    async def candles(self, symbol: str, timeframe: str, limit: int = 300,
                      since_ms: int | None = None) -> list[Candle]:
        if symbol not in self.series or timeframe != "1h":
            raise LookupError(f"no {timeframe} file for {symbol}")
        return self._visible(symbol)[-limit:]

    async def balances(self) -> dict[str, Balance]:
        return {}

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        return []

    async def order_history(self, start_ns: int, end_ns: int, limit: int = 100,
                            symbol: str | None = None) -> HistoryPage:
        return HistoryPage([], None)

    async def order_detail(self, *, order_id: str | None = None, client_oid: str | None = None) -> Order | None:
        return None

    async def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("read-only exchange")

    create_order = create_trigger_order = create_oco = cancel_oco = create_otoco = cancel_otoco = _refuse

    async def cancel_order(self, *, symbol: str, order_id: str | None = None, client_oid: str | None = None) -> None:
        raise PermissionError("read-only exchange")

    async def order_updates(self) -> AsyncIterator[OrderUpdate]:
        return
        yield

    async def close(self) -> None:
        return None


@pytest.fixture
def exchange() -> CandleFileExchange:
    if not DGB_FILE.is_file():
        pytest.skip("needs the shared candle files (DGB_USDT is not bundled)")
    return CandleFileExchange({"BTC_USDT": SHARED_CANDLES / "BTC_USDT-1h.csv", "DGB_USDT": DGB_FILE,
                               "ETH_USDT": SHARED_CANDLES / "ETH_USDT-1h.csv"})


async def test_the_file_exchange_speaks_the_protocol(exchange: CandleFileExchange) -> None:
    assert isinstance(exchange, Exchange)
    with pytest.raises(PermissionError):
        await exchange.create_order(None)


async def test_dgb_gaps_and_zero_volume_make_it_stale_while_the_others_get_decisions(
        db: str, exchange: CandleFileExchange) -> None:
    for symbol in ("BTC_USDT", "DGB_USDT", "ETH_USDT"):
        await WatchlistEntry.create(symbol=symbol, alert_enabled=True)
    service = SignalService(exchange, EventBus(), StrategyParams())  # type: ignore[arg-type]

    exchange.show_until("DGB_USDT", ZERO_VOLUME_AT)
    first = await service.update_market()
    first_verdicts = await service.monitor()
    exchange.show_until("DGB_USDT", AFTER_GAP_AT)
    second = await service.update_market()
    second_verdicts = await service.monitor()

    assert first["DGB_USDT"] == "zero volume on the latest candle"
    assert second["DGB_USDT"] == "gaps: 3 missing candles in the last 214"
    dgb = await IndicatorSnapshot.filter(symbol="DGB_USDT").order_by("id")
    assert [(s.stale, s.stale_reason) for s in dgb] == [(True, first["DGB_USDT"]), (True, second["DGB_USDT"])]
    assert all(set(s.values) == {"close"} for s in dgb)      # no indicator from data that cannot be trusted
    for outcome, verdicts in ((first, first_verdicts), (second, second_verdicts)):
        assert outcome["BTC_USDT"] is None and outcome["ETH_USDT"] is None
        assert set(verdicts) == {"BTC_USDT", "ETH_USDT"}
    for symbol in ("BTC_USDT", "ETH_USDT"):
        snapshots = await IndicatorSnapshot.filter(symbol=symbol)
        assert len(snapshots) == 2 and not any(s.stale for s in snapshots)
        assert {"rsi", "ema50", "ema200", "volume_ratio"} <= set(snapshots[-1].values)
        records = await SignalRecord.filter(symbol=symbol)
        assert len(records) == 2 and all(r.reasons for r in records)
        assert records[-1].price == exchange.series[symbol][-1].close
    assert await SignalRecord.filter(symbol="DGB_USDT").count() == 0
    assert await StrategyState.get_or_none(symbol="DGB_USDT") is None


async def test_dgb_is_fresh_again_once_its_window_has_no_gap(db: str, exchange: CandleFileExchange) -> None:
    await WatchlistEntry.create(symbol="DGB_USDT", alert_enabled=True)
    service = SignalService(exchange, EventBus(), StrategyParams())  # type: ignore[arg-type]
    exchange.show_until("DGB_USDT", AFTER_GAP_AT + 3_600_000 * 300)   # the gaps are now out of the last 214
    assert (await service.update_market())["DGB_USDT"] is None
    verdicts = await service.monitor()
    assert verdicts["DGB_USDT"].decision.value in {"BUY", "SELL", "WAIT"}
    assert isinstance((await SignalRecord.get(symbol="DGB_USDT")).price, Decimal)


async def test_a_bundled_coin_with_hours_cut_out_and_no_volume_is_stale_and_the_cycle_goes_on(
        db: str, tmp_path: Any) -> None:
    """The same failure modes on the MIT-licensed bundled data (so it runs without ../shared): real
    LINK candles with three hours removed, and an hour whose volume is zero."""
    def real(symbol: str) -> tuple[str, list[str]]:
        rows = (BUNDLED_CANDLES / f"{symbol}-1h.csv").read_text().splitlines()
        return rows[0], rows[1:1001]

    header, link = real("LINK_USDT")
    (tmp_path / "gappy.csv").write_text("\n".join([header, *link[:950], *link[953:]]) + "\n")   # 3 hours missing
    header, sol = real("SOL_USDT")
    silent = ",".join([*sol[-1].split(",")[:5], "0"])                                    # the last hour: no trade
    (tmp_path / "flat.csv").write_text("\n".join([header, *sol[:-1], silent]) + "\n")
    exchange = CandleFileExchange({"BTC_USDT": BUNDLED_CANDLES / "BTC_USDT-1h.csv", "LINK_USDT": tmp_path / "gappy.csv",
                                   "SOL_USDT": tmp_path / "flat.csv"})
    for symbol in ("BTC_USDT", "LINK_USDT", "SOL_USDT"):
        await WatchlistEntry.create(symbol=symbol, alert_enabled=True)
    service = SignalService(exchange, EventBus(), StrategyParams())  # type: ignore[arg-type]

    outcome = await service.update_market()
    verdicts = await service.monitor()

    assert outcome["LINK_USDT"] is not None and outcome["LINK_USDT"].startswith("gaps: 3 missing candles")
    assert outcome["SOL_USDT"] == "zero volume on the latest candle"
    assert outcome["BTC_USDT"] is None and set(verdicts) == {"BTC_USDT"}
    assert await SignalRecord.filter(symbol="BTC_USDT").count() == 1
