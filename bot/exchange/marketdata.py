"""Market data for the paper exchange: replayed candle files, or crypto.com's public REST data.

Both feeds answer the same `MarketData` protocol. `step()` moves the feed forward and returns
what happened since the last step (new candles and/or new prices), which the paper exchange
hands to the matching engine; `now_ns()` is the feed's clock (replay time, or wall time).
"""

from __future__ import annotations

import csv
import re
import time
from bisect import bisect_right
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from bot.domain.instrument import Instrument
from bot.domain.money import ZERO, to_decimal
from bot.exchange.base import Candle, Ticker

_UNITS_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 7 * 86_400_000}
DAY_MS = 86_400_000


def timeframe_ms(timeframe: str) -> int:
    """'5m' -> 300000; '1h' / 'H1' -> 3600000; '1D' / '1d' -> 86400000."""
    match = re.fullmatch(r"(\d+)([mhdwMHDW])|([mhdwMHDW])(\d+)", timeframe.strip())
    if not match:
        raise ValueError(f"unknown timeframe {timeframe!r}")
    number = int(match.group(1) or match.group(4))
    if match.group(2) == "M":
        return number * 30 * _UNITS_MS["d"]     # crypto.com's "1M" is a calendar month ("M1" is a minute)
    unit = (match.group(2) or match.group(3)).lower()
    return number * _UNITS_MS[unit]


@dataclass
class MarketStep:
    """What one step of the feed brought: whole candles (replay) and/or bare prices (live polling)."""
    now_ns: int
    candles: dict[str, list[Candle]] = field(default_factory=dict)
    prices: dict[str, Decimal] = field(default_factory=dict)


class MarketData(Protocol):
    async def instruments(self) -> dict[str, Instrument]: ...
    async def candles(self, symbol: str, timeframe: str, limit: int = 300,
                      since_ms: int | None = None) -> list[Candle]: ...
    async def latest_price(self, symbol: str) -> Decimal | None: ...
    async def tickers(self) -> dict[str, Ticker]: ...
    async def step(self) -> MarketStep: ...
    def now_ns(self) -> int: ...
    def state(self) -> dict[str, Any]: ...                 # the feed's clock, saved with the paper state
    def restore_state(self, state: dict[str, Any]) -> None: ...
    async def close(self) -> None: ...


# --- replayed candle files -------------------------------------------------------------------


def load_candles(path: Path) -> list[Candle]:
    """`timestamp_ms,open,high,low,close,volume`; numbers parsed exactly as written."""
    with path.open(newline="") as handle:
        return [Candle(int(row["timestamp_ms"]), Decimal(row["open"]), Decimal(row["high"]), Decimal(row["low"]),
                       Decimal(row["close"]), Decimal(row["volume"])) for row in csv.DictReader(handle)]


def instrument_for(symbol: str, candles: list[Candle]) -> Instrument:
    """Tick sizes from the data: the finest price decimals seen (at most 8); quantity steps sized to
    the price, like crypto.com's (0.00001 for BTC-like prices, whole coins below 0.01 USD a coin)."""
    sample = candles[:500]
    decimals = max((max(0, -int(c.close.as_tuple().exponent)) for c in sample), default=2)
    price_tick = Decimal(1).scaleb(-min(decimals, 8))
    last = candles[-1].close if candles else Decimal(1)
    if last >= 1000:
        qty_tick = Decimal("0.00001")
    elif last >= 100:
        qty_tick = Decimal("0.0001")
    elif last >= 1:
        qty_tick = Decimal("0.001")
    elif last >= Decimal("0.01"):
        qty_tick = Decimal(1)
    else:
        qty_tick = Decimal(10)
    base, quote = symbol.split("_", 1)
    return Instrument(symbol, base, quote, price_tick, qty_tick, min_notional=Decimal(1))


class ReplayMarketData:
    """`<BASE>_<QUOTE>-<tf>.csv` files replayed on one clock.

    The clock (`now_ms`) is the close time of the newest visible candle of the main timeframe: a
    candle is visible once it has closed. It starts `warmup` candles after the earliest file start,
    so indicators have history (or with the candle opened at `first_candle_ms` as the newest one),
    and each `step()` advances it by one main-timeframe candle.
    """

    def __init__(self, directory: Path | str, timeframe: str = "1h", warmup: int = 300,
                 first_candle_ms: int | None = None) -> None:
        self.directory = Path(directory)
        self.timeframe = timeframe
        self.step_ms = timeframe_ms(timeframe)
        self.series: dict[str, list[Candle]] = {}
        for path in sorted(self.directory.glob(f"*-{timeframe}.csv")):
            self.series[path.name.rsplit("-", 1)[0]] = load_candles(path)
        self.series = {s: c for s, c in self.series.items() if c}
        if not self.series:
            raise FileNotFoundError(f"no *-{timeframe}.csv candle files in {self.directory}")
        self._times = {s: [c.timestamp_ms for c in candles] for s, candles in self.series.items()}
        self._other: dict[tuple[str, str], list[Candle]] = {}
        start = min(c[0].timestamp_ms for c in self.series.values())
        self.end_ms = max(c[-1].timestamp_ms for c in self.series.values()) + self.step_ms
        self.now_ms = min(start + (warmup + 1) * self.step_ms, self.end_ms)
        if first_candle_ms is not None:         # a chosen start: that candle is the newest one shown
            self.now_ms = min(max(first_candle_ms + self.step_ms, start + self.step_ms), self.end_ms)
        self._instruments = {s: instrument_for(s, c) for s, c in self.series.items()}

    # clock ----------------------------------------------------------------------------------

    def now_ns(self) -> int:
        return self.now_ms * 1_000_000

    def state(self) -> dict[str, Any]:
        return {"kind": "replay", "now_ms": self.now_ms}

    def restore_state(self, state: dict[str, Any]) -> None:
        if state.get("kind") == "replay" and isinstance(state.get("now_ms"), int):
            self.now_ms = min(int(state["now_ms"]), self.end_ms)

    @property
    def exhausted(self) -> bool:
        return self.now_ms >= self.end_ms

    async def step(self) -> MarketStep:
        """One main-timeframe candle forward; the candles that closed in between, per symbol."""
        before = self.now_ms
        if not self.exhausted:
            self.now_ms += self.step_ms
        closed: dict[str, list[Candle]] = {}
        for symbol in self.series:
            new = self._visible_between(symbol, before, self.now_ms)
            if new:
                closed[symbol] = new
        return MarketStep(self.now_ns(), candles=closed)

    def _visible_count(self, symbol: str, now_ms: int) -> int:
        # A candle opened at t is visible once t + step <= now.
        return bisect_right(self._times[symbol], now_ms - self.step_ms)

    def _visible_between(self, symbol: str, after_ms: int, upto_ms: int) -> list[Candle]:
        return self.series[symbol][self._visible_count(symbol, after_ms):self._visible_count(symbol, upto_ms)]

    # data -----------------------------------------------------------------------------------

    def visible(self, symbol: str) -> list[Candle]:
        return self.series[symbol][: self._visible_count(symbol, self.now_ms)]

    def current(self, symbol: str) -> Candle | None:
        count = self._visible_count(symbol, self.now_ms)
        return self.series[symbol][count - 1] if count else None

    async def instruments(self) -> dict[str, Instrument]:
        return dict(self._instruments)

    async def latest_price(self, symbol: str) -> Decimal | None:
        candle = self.current(symbol) if symbol in self.series else None
        return candle.close if candle else None

    async def candles(self, symbol: str, timeframe: str, limit: int = 300,
                      since_ms: int | None = None) -> list[Candle]:
        if symbol not in self.series:
            return []
        if timeframe_ms(timeframe) == self.step_ms:
            visible = self.visible(symbol)
        else:
            visible = self._other_timeframe(symbol, timeframe)
        if since_ms is not None:
            visible = visible[bisect_right([c.timestamp_ms for c in visible], since_ms - 1):]
            return visible[:limit]
        return visible[-limit:] if limit > 0 else []

    def _other_timeframe(self, symbol: str, timeframe: str) -> list[Candle]:
        """Another timeframe's file, when present, up to the replay clock (closed candles only)."""
        key = (symbol, timeframe)
        if key not in self._other:
            path = self.directory / f"{symbol}-{timeframe}.csv"
            self._other[key] = load_candles(path) if path.exists() else []
        step = timeframe_ms(timeframe)
        return [c for c in self._other[key] if c.timestamp_ms + step <= self.now_ms]

    async def tickers(self) -> dict[str, Ticker]:
        out = {}
        for symbol in self.series:
            visible = self.visible(symbol)
            if not visible:
                continue
            day = [c for c in visible[-max(1, DAY_MS // self.step_ms):]]
            last = visible[-1]
            out[symbol] = Ticker(symbol, last.close, last.close, last.close, max(c.high for c in day),
                                 min(c.low for c in day), sum((c.volume for c in day), ZERO),
                                 last.timestamp_ms + self.step_ms)
        return out

    async def close(self) -> None:
        return None


# --- crypto.com public REST ------------------------------------------------------------------


class ExchangePublicMarketData:
    """crypto.com v1 public endpoints (no keys): instruments, tickers, candles. `step()` polls the
    tickers, so the paper engine sees the last trade price at each poll."""

    def __init__(self, base_url: str, *, session: Any = None, timeout_seconds: float = 10.0,
                 min_notional: Decimal = Decimal(1)) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._own_session = session is None
        self.timeout_seconds = timeout_seconds
        self.min_notional = min_notional
        self._instruments: dict[str, Instrument] | None = None

    def now_ns(self) -> int:
        return time.time_ns()

    def state(self) -> dict[str, Any]:
        return {"kind": "exchange"}

    def restore_state(self, state: dict[str, Any]) -> None:
        return None

    async def _get(self, method: str, **params: Any) -> Any:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout_seconds))
        query = {k: str(v) for k, v in params.items() if v is not None}
        async with self._session.get(f"{self.base_url}/{method}", params=query) as response:
            body = await response.json(content_type=None)
        if not isinstance(body, dict) or str(body.get("code", 0)) != "0":
            from bot.exchange.codes import error_for_code
            from bot.exchange.errors import ExchangeUnavailable

            if isinstance(body, dict) and "code" in body:
                raise error_for_code(body["code"], str(body.get("message") or method))
            raise ExchangeUnavailable(f"unexpected answer from {method}")
        return body.get("result", {})

    async def instruments(self) -> dict[str, Instrument]:
        if self._instruments is None:
            result = await self._get("public/get-instruments")
            found = {}
            for item in result.get("data", []):
                if item.get("inst_type") not in (None, "CCY_PAIR"):
                    continue
                symbol = item["symbol"]
                found[symbol] = Instrument(symbol, item["base_ccy"], item["quote_ccy"],
                                           to_decimal(item["price_tick_size"]), to_decimal(item["qty_tick_size"]),
                                           min_notional=self.min_notional, tradable=bool(item.get("tradable", True)))
            self._instruments = found
        return dict(self._instruments)

    async def tickers(self) -> dict[str, Ticker]:
        result = await self._get("public/get-tickers")
        out = {}
        for item in result.get("data", []):
            def num(key: str, item: dict[str, Any] = item) -> Decimal | None:
                return None if item.get(key) in (None, "") else to_decimal(item[key])
            out[item["i"]] = Ticker(item["i"], num("a"), num("b"), num("k"), num("h"), num("l"), num("v"),
                                    int(item.get("t") or 0))
        return out

    async def latest_price(self, symbol: str) -> Decimal | None:
        result = await self._get("public/get-tickers", instrument_name=symbol)
        data = result.get("data") or []
        return to_decimal(data[0]["a"]) if data and data[0].get("a") not in (None, "") else None

    async def candles(self, symbol: str, timeframe: str, limit: int = 300,
                      since_ms: int | None = None) -> list[Candle]:
        result = await self._get("public/get-candlestick", instrument_name=symbol, timeframe=timeframe,
                                 count=min(limit, 300), start_ts=since_ms)
        candles = [Candle(int(c["t"]), to_decimal(c["o"]), to_decimal(c["h"]), to_decimal(c["l"]),
                          to_decimal(c["c"]), to_decimal(c["v"])) for c in result.get("data", [])]
        return sorted(candles, key=lambda c: c.timestamp_ms)[-limit:]

    async def step(self) -> MarketStep:
        tickers = await self.tickers()
        return MarketStep(self.now_ns(), prices={s: t.last for s, t in tickers.items() if t.last is not None})

    async def close(self) -> None:
        if self._session is not None and self._own_session:
            await self._session.close()
        self._session = None
