"""The one `Exchange` protocol every service uses, and its value types.

Implementations: `cryptocom` (live, ccxt + private/advanced), `paper` (in-process engine).
Quantities and prices are `Decimal` everywhere; implementations round them to the
instrument's ticks (quantities down, prices in the safe direction) before sending.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from bot.domain.instrument import Instrument
from bot.domain.money import ZERO
from bot.domain.orders import Order, OrderType, Side


@dataclass(frozen=True)
class Ticker:
    symbol: str
    last: Decimal | None
    bid: Decimal | None = None
    ask: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    volume: Decimal | None = None
    timestamp_ms: int = 0


@dataclass(frozen=True)
class Candle:
    timestamp_ms: int       # candle open time, UTC ms
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


@dataclass(frozen=True)
class Balance:
    asset: str
    total: Decimal
    free: Decimal
    locked: Decimal = ZERO


@dataclass(frozen=True)
class OrderRequest:
    """A LIMIT or MARKET order. MARKET BUY may give `notional` (quote to spend) instead of quantity."""
    symbol: str
    side: Side
    order_type: OrderType
    client_oid: str
    quantity: Decimal | None = None
    price: Decimal | None = None
    notional: Decimal | None = None
    post_only: bool = False


@dataclass(frozen=True)
class TriggerOrderRequest:
    """STOP_LOSS / STOP_LIMIT / TAKE_PROFIT / TAKE_PROFIT_LIMIT, sent to private/advanced/create-order."""
    symbol: str
    side: Side
    order_type: OrderType
    client_oid: str
    quantity: Decimal
    trigger_price: Decimal
    price: Decimal | None = None   # required for the *_LIMIT types


@dataclass(frozen=True)
class OcoRequest:
    """Native OCO (private/advanced/create-oco): a LIMIT take-profit and a STOP_LOSS leg."""
    symbol: str
    side: Side                     # SELL to protect a long position
    quantity: Decimal
    take_profit_price: Decimal     # the LIMIT leg
    stop_loss_trigger: Decimal     # the trigger leg
    take_profit_client_oid: str
    stop_loss_client_oid: str
    stop_loss_limit_price: Decimal | None = None   # STOP_LIMIT instead of STOP_LOSS when set


@dataclass(frozen=True)
class OcoPlacement:
    list_id: str
    take_profit_order_id: str | None
    stop_loss_order_id: str | None


@dataclass(frozen=True)
class OtocoRequest:
    """Entry + stop-loss + take-profit (private/advanced/create-otoco)."""
    entry: OrderRequest
    stop_loss_trigger: Decimal
    take_profit_price: Decimal
    stop_loss_client_oid: str
    take_profit_client_oid: str


@dataclass(frozen=True)
class HistoryPage:
    """Final-state orders from `order_history`, newest first; `next_end_ns` pages further back."""
    orders: list[Order]
    next_end_ns: int | None


@dataclass(frozen=True)
class OrderUpdate:
    """One push from the order stream (`user.order`)."""
    order: Order
    received_at: datetime | None = None
    source: str = field(default="stream")


@runtime_checkable
class Exchange(Protocol):
    name: str                 # "cryptocom" | "paper"
    mode: str                 # "live" | "paper"

    async def instruments(self) -> dict[str, Instrument]: ...
    async def instrument(self, symbol: str) -> Instrument: ...
    async def ticker(self, symbol: str) -> Ticker: ...
    async def tickers(self) -> dict[str, Ticker]: ...
    async def candles(self, symbol: str, timeframe: str, limit: int = 300,
                      since_ms: int | None = None) -> list[Candle]: ...
    async def balances(self) -> dict[str, Balance]: ...
    async def open_orders(self, symbol: str | None = None) -> list[Order]: ...
    async def order_history(self, start_ns: int, end_ns: int, limit: int = 100,
                            symbol: str | None = None) -> HistoryPage: ...
    async def order_detail(self, *, order_id: str | None = None,
                           client_oid: str | None = None) -> Order | None: ...
    async def create_order(self, request: OrderRequest) -> Order: ...
    async def create_trigger_order(self, request: TriggerOrderRequest) -> Order: ...
    async def create_oco(self, request: OcoRequest) -> OcoPlacement: ...
    async def cancel_oco(self, list_id: str, symbol: str) -> None: ...
    async def create_otoco(self, request: OtocoRequest) -> OcoPlacement: ...
    async def cancel_otoco(self, list_id: str, symbol: str) -> None: ...
    async def cancel_order(self, *, symbol: str, order_id: str | None = None,
                           client_oid: str | None = None) -> None: ...
    def order_updates(self) -> AsyncIterator[OrderUpdate]: ...
    async def close(self) -> None: ...
