"""The watchlist as people change it, from the bot's conversations or the Mini App's PATCH: one set
of rules and refusals for both (`Invalid` key + values, worded at the edge; never aiogram types).

Symbols are checked against the exchange's instruments. What people type is normalised first
(`btc/usdt`, `BTC-USDT` are BTC_USDT); a near miss (`BTCUSDT`, `btc`, `BTC-USD` where only
BTC_USDT is listed, a typo) is refused with suggestions, never silently replaced.
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.db.models import WatchlistEntry
from bot.db.repositories import WatchlistRepository
from bot.domain.events import WatchlistChanged
from bot.domain.input_rules import Invalid, NumberField, parse_flag, parse_number
from bot.domain.instrument import Instrument
from bot.exchange.base import Exchange
from bot.services.events import EventBus

# Quotes tried, in this order, for a bare coin (`btc`) and to split a glued pair (`BTCUSDT`).
QUOTES = ("USDT", "USD", "USDC", "EUR", "BTC", "ETH")
INSTRUMENTS_TTL_SECONDS = 600.0
MAX_SUGGESTIONS = 3


class Flag(StrEnum):
    TRADE = "trade"
    ALERT = "alert"
    MARGIN = "margin"


FLAG_COLUMNS = {Flag.TRADE: "trade_enabled", Flag.ALERT: "alert_enabled", Flag.MARGIN: "margin_enabled"}


@dataclass(frozen=True)
class CoinSettings:
    """One watched coin as every view shows it."""
    symbol: str
    trade: bool
    alert: bool
    margin: bool
    amount_usd: Decimal
    stop_loss_percent: Decimal
    take_profit_percent: Decimal
    timeframe: str = "1h"

    @classmethod
    def of(cls, row: WatchlistEntry) -> CoinSettings:
        # Model defaults come back as ints on fresh rows: money stays Decimal.
        return cls(symbol=row.symbol, trade=bool(row.trade_enabled), alert=bool(row.alert_enabled),
                   margin=bool(row.margin_enabled), amount_usd=Decimal(str(row.amount_usd)),
                   stop_loss_percent=Decimal(str(row.stop_loss_percent)),
                   take_profit_percent=Decimal(str(row.take_profit_percent)), timeframe=row.timeframe)

    def flag(self, flag: Flag) -> bool:
        return {Flag.TRADE: self.trade, Flag.ALERT: self.alert, Flag.MARGIN: self.margin}[flag]

    def number(self, field: NumberField) -> Decimal:
        return {NumberField.AMOUNT: self.amount_usd, NumberField.STOP_LOSS: self.stop_loss_percent,
                NumberField.TAKE_PROFIT: self.take_profit_percent}[field]


@dataclass(frozen=True)
class SymbolLookup:
    """`symbol` when the text names a listed instrument; otherwise the near misses (maybe none)."""
    text: str
    symbol: str | None
    suggestions: tuple[str, ...] = ()


def normalise_symbol(text: str) -> str:
    """Upper case, one `_` between base and quote: `btc/usdt`, `BTC-USDT`, `btc usdt` -> BTC_USDT."""
    return re.sub(r"[\s/\-.:_]+", "_", text.strip().upper()).strip("_")


def suggest_symbols(text: str, listed: Mapping[str, Instrument]) -> SymbolLookup:
    """Pure: the instrument `text` names, or its near misses among `listed` (tradable ones only)."""
    wanted = normalise_symbol(text)
    tradable = {s for s, i in listed.items() if i.tradable}
    if wanted in tradable:
        return SymbolLookup(text, wanted)
    found: list[str] = []

    def offer(symbol: str) -> None:
        if symbol in tradable and symbol not in found:
            found.append(symbol)

    base, _, quote = wanted.partition("_")
    if not quote:
        for known in QUOTES:                      # BTCUSDT -> BTC_USDT
            if base.endswith(known) and len(base) > len(known):
                offer(f"{base[:-len(known)]}_{known}")
        for known in QUOTES:                      # btc -> BTC_USDT
            offer(f"{base}_{known}")
    else:
        for known in QUOTES:                      # BTC_USD (not listed) -> BTC_USDT
            offer(f"{base}_{known}")
    for near in difflib.get_close_matches(wanted, sorted(tradable), n=MAX_SUGGESTIONS, cutoff=0.75):
        offer(near)                               # typos: BTC_USTD -> BTC_USDT
    return SymbolLookup(text, None, tuple(found[:MAX_SUGGESTIONS]))


class WatchlistService:
    def __init__(self, exchange: Exchange, repository: WatchlistRepository | None = None, *,
                 events: EventBus | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.exchange = exchange
        self.repository = repository or WatchlistRepository()
        # Told of every change, wherever it was made: the chat's edits refresh open Mini App pages.
        self.events = events
        self._clock = clock
        self._instruments: tuple[float, dict[str, Instrument]] | None = None

    # --- reading ---------------------------------------------------------------------------

    async def coins(self) -> list[CoinSettings]:
        return [CoinSettings.of(row) for row in await self.repository.all()]

    async def coin(self, symbol: str) -> CoinSettings | None:
        row = await self.repository.get(symbol)
        return CoinSettings.of(row) if row is not None else None

    async def lookup(self, text: str) -> SymbolLookup:
        """Which listed instrument `text` names (any instrument, watched or not)."""
        return suggest_symbols(text, await self.instruments())

    async def instruments(self) -> dict[str, Instrument]:
        """The exchange's instruments, asked again after INSTRUMENTS_TTL_SECONDS (listings change
        rarely and the call is the exchange's largest answer)."""
        now = self._clock()
        if self._instruments is None or now - self._instruments[0] > INSTRUMENTS_TTL_SECONDS:
            self._instruments = (now, await self.exchange.instruments())
        return self._instruments[1]

    # --- changing --------------------------------------------------------------------------

    async def add(self, text: str, *, stop_loss_percent: Decimal | None = None,
                  take_profit_percent: Decimal | None = None) -> CoinSettings | Invalid:
        """Watch a listed coin (Trade, Alert and Margin off; the given SL/TP % or the defaults)."""
        found = await self.lookup(text)
        if found.symbol is None:
            return Invalid.of("unknown_symbol", field="symbol", suggestions=found.suggestions, text=text.strip()[:32])
        if await self.repository.get(found.symbol) is not None:
            return Invalid.of("already_watched", field="symbol", symbol=found.symbol)
        columns: dict[str, Any] = {}
        if stop_loss_percent is not None:
            columns["stop_loss_percent"] = stop_loss_percent
        if take_profit_percent is not None:
            columns["take_profit_percent"] = take_profit_percent
        added = CoinSettings.of(await self.repository.add(found.symbol, **columns))
        await self._changed(added.symbol)
        return added

    async def remove(self, symbol: str) -> Invalid | None:
        if not await self.repository.remove(symbol):
            return Invalid.of("not_watched", field="symbol", symbol=symbol)
        await self._changed(symbol, removed=True)
        return None

    async def toggle(self, symbol: str, flag: Flag) -> CoinSettings | Invalid:
        coin = await self.coin(symbol)
        if coin is None:
            return Invalid.of("not_watched", field="symbol", symbol=symbol)
        return await self._write(symbol, {FLAG_COLUMNS[flag]: not coin.flag(flag)})

    async def set_flag(self, symbol: str, flag: Flag, value: bool) -> CoinSettings | Invalid:
        return await self._write(symbol, {FLAG_COLUMNS[flag]: value})

    async def set_number(self, symbol: str, field: NumberField, raw: str | Decimal | int,
                         locale: str | None = None) -> CoinSettings | Invalid:
        """Amount (USD), SL % or TP % from what was typed; `locale` reads its thousands separator."""
        value = parse_number(raw, field, locale)
        if isinstance(value, Invalid):
            return value
        return await self._write(symbol, {field.value: value})

    async def update(self, symbol: str, changes: Mapping[str, object], locale: str | None = None
                     ) -> CoinSettings | Invalid:
        """Several settings at once (the Mini App's PATCH: `trade`, `alert`, `margin`, `amount_usd`,
        `stop_loss_percent`, `take_profit_percent`): every value is checked before any is written,
        and the first refusal names its field."""
        columns: dict[str, Any] = {}
        for name, raw in changes.items():
            if name in Flag.__members__.values():
                flag = parse_flag(raw, name)
                if isinstance(flag, Invalid):
                    return flag
                columns[FLAG_COLUMNS[Flag(name)]] = flag
            elif name in NumberField.__members__.values():
                number = parse_number(raw if isinstance(raw, (str, Decimal, int)) else str(raw),
                                      NumberField(name), locale)
                if isinstance(number, Invalid):
                    return number
                columns[name] = number
            else:
                return Invalid.of("unknown_setting", field=name[:40], text=name[:40])
        if not columns:
            coin = await self.coin(symbol)
            return coin if coin is not None else Invalid.of("not_watched", field="symbol", symbol=symbol)
        return await self._write(symbol, columns)

    async def _write(self, symbol: str, columns: dict[str, Any]) -> CoinSettings | Invalid:
        row = await self.repository.update(symbol, **columns)
        if row is None:
            return Invalid.of("not_watched", field="symbol", symbol=symbol)
        await self._changed(symbol)
        return CoinSettings.of(row)

    async def _changed(self, symbol: str, *, removed: bool = False) -> None:
        if self.events is not None:
            await self.events.publish(WatchlistChanged(symbol=symbol, removed=removed,
                                                       mode=self.exchange.mode))
