"""Domain events that services emit and the notifier (and others) consume.

Plain frozen dataclasses: no aiogram, no I/O. Every event carries the numbers a user needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from bot.domain.orders import Side
from bot.domain.reasons import Reason


@dataclass(frozen=True)
class Event:
    mode: str = field(default="paper", kw_only=True)     # "paper" | "live"


@dataclass(frozen=True)
class OrderFilled(Event):
    order_id: str
    client_oid: str | None
    symbol: str
    side: Side
    quantity: Decimal          # filled so far
    price: Decimal | None      # average fill price
    partial: bool
    role: str = "unknown"


@dataclass(frozen=True)
class OrderCanceled(Event):
    order_id: str
    client_oid: str | None
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal | None
    role: str = "unknown"


@dataclass(frozen=True)
class OrderRejected(Event):
    order_id: str
    client_oid: str | None
    symbol: str
    side: Side
    quantity: Decimal
    reason: str


@dataclass(frozen=True)
class ProtectionPlaced(Event):
    group_id: str
    symbol: str
    quantity: Decimal
    entry_price: Decimal
    stop_loss_price: Decimal
    take_profit_price: Decimal
    native_oco: bool
    # What exists may be less than was wanted; then one event tells both (never "placed" then "failed").
    wanted_quantity: Decimal | None = None     # what the buy needed protected (None: `quantity`)
    take_profit_placed: bool = True            # False: only the stop-loss stands (two linked legs)
    problem: Reason | None = None              # why the take-profit or the rest of the quantity is missing


@dataclass(frozen=True)
class ProtectionFailed(Event):
    group_id: str | None
    symbol: str
    wanted_quantity: Decimal
    protected_quantity: Decimal
    reason: str                # plain language (English, for logs); never silent
    reason_key: str = ""       # bot.domain.reasons.TEMPLATES key: what each user reads, translated
    reason_args: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class OcoLegDone(Event):
    group_id: str
    symbol: str
    leg: str                   # "stop_loss" | "take_profit"
    quantity: Decimal
    entry_price: Decimal
    exit_price: Decimal
    pnl: Decimal               # in quote currency, fees included when known
    sibling_canceled: bool
    sibling_problem: Reason | None = None      # why the other leg is still open (it is retried)
    sibling_placed: bool = True                # False: the other leg never existed (it was refused)


@dataclass(frozen=True)
class SignalChanged(Event):
    symbol: str
    decision: str              # "BUY" | "SELL" | "WAIT"
    price: Decimal
    reasons: tuple[str, ...]
    explained: tuple[Reason, ...] = ()              # the reasons, for each reader's language
    indicators: tuple[tuple[str, str], ...] = ()    # name -> plain decimal, as the decision saw them


@dataclass(frozen=True)
class WatchlistChanged(Event):
    """A coin was added, removed or had a setting changed (from the chat or the Mini App)."""
    symbol: str
    removed: bool = False


@dataclass(frozen=True)
class AutoOrderRefused(Event):
    symbol: str
    rule: str
    detail: str
    args: tuple[tuple[str, str], ...] = ()          # the rule's template values (bot.domain.reasons)
    price: Decimal | None = None                    # the signal's price
    explained: tuple[Reason, ...] = ()              # why the signal said BUY


@dataclass(frozen=True)
class AutoOrderPlaced(Event):
    symbol: str
    order_id: str
    client_oid: str
    quantity: Decimal
    price: Decimal
    stop_loss_price: Decimal | None = None          # sent with the buy (OTOCO): protected from the fill
    take_profit_price: Decimal | None = None
    explained: tuple[Reason, ...] = ()              # why the signal said BUY


@dataclass(frozen=True)
class ExchangeCircuitChanged(Event):
    """The exchange stopped answering usefully (the bot stops writing to it), or answers again."""
    opened: bool               # True: failing, writes stopped; False: answering again
    failures: int              # failed requests in a row that opened it
    cause: str                 # the last failure in the exchange's terms: "code 42901", "timeout"
    seconds_open: float = 0.0  # on closing: how long it was open
