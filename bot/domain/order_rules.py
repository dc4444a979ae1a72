"""The rules an automatic order must pass, each returning the reason it refuses (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from bot.domain.money import plain
from bot.domain.reasons import Reason


@dataclass(frozen=True)
class Refusal:
    rule: str        # "trade_disabled", "max_open_per_symbol", "min_price_move", "duplicate_price", ...
    detail: str      # English, for logs and the stored decision
    args: tuple[tuple[str, str], ...] = ()     # the values of the rule's template (bot.domain.reasons)

    @classmethod
    def of(cls, rule: str, **args: object) -> Refusal:
        """The refusal worded by its rule's template, with the values each reader's language needs."""
        reason = Reason.of(rule, **args)
        return cls(rule, reason.text, reason.args)


@dataclass(frozen=True)
class RuleLimits:
    max_open_per_symbol: int = 3
    min_price_move_percent: Decimal = Decimal(3)


@dataclass(frozen=True)
class OrderCandidate:
    symbol: str
    price: Decimal
    cost: Decimal                   # quote currency needed, fees included
    trade_enabled: bool
    open_buy_prices: tuple[Decimal, ...]
    last_order_price: Decimal | None
    free_quote: Decimal
    quote: str = "USDT"


def check_trade_flag(c: OrderCandidate, limits: RuleLimits) -> Refusal | None:
    if not c.trade_enabled:
        return Refusal.of("trade_disabled", symbol=c.symbol)
    return None


def check_max_open(c: OrderCandidate, limits: RuleLimits) -> Refusal | None:
    if len(c.open_buy_prices) >= limits.max_open_per_symbol:
        return Refusal.of("max_open_per_symbol", count=len(c.open_buy_prices), symbol=c.symbol,
                          limit=limits.max_open_per_symbol)
    return None


def check_duplicate_price(c: OrderCandidate, limits: RuleLimits) -> Refusal | None:
    if c.price in c.open_buy_prices:
        return Refusal.of("duplicate_price", symbol=c.symbol, price=plain(c.price))
    return None


def check_price_move(c: OrderCandidate, limits: RuleLimits) -> Refusal | None:
    if c.last_order_price is None or c.last_order_price == 0:
        return None
    move = abs(c.price - c.last_order_price) / c.last_order_price * 100
    if move < limits.min_price_move_percent:
        return Refusal.of("min_price_move", move=plain(move.quantize(Decimal("0.01"))),
                          last=plain(c.last_order_price), needed=plain(limits.min_price_move_percent))
    return None


def check_balance(c: OrderCandidate, limits: RuleLimits) -> Refusal | None:
    if c.free_quote < c.cost:
        return Refusal.of("insufficient_balance", needed=plain(c.cost), free=plain(c.free_quote), quote=c.quote)
    return None


RULES = (check_trade_flag, check_max_open, check_duplicate_price, check_price_move, check_balance)


def first_refusal(candidate: OrderCandidate, limits: RuleLimits,
                  rules: Iterable[Callable[[OrderCandidate, RuleLimits], Refusal | None]] = RULES) -> Refusal | None:
    """The first rule that blocks the order, or None when every rule passes."""
    for rule in rules:
        refusal = rule(candidate, limits)
        if refusal is not None:
            return refusal
    return None
