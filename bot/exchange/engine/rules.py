"""Validation of one order request, with the crypto.com v1 reason codes the exchange answers.

Order of checks (first failure wins): side 220, type 218, trigger type on the plain endpoint
140001, instrument 209, quantity 213, price 308, trigger price 308 / 229 (the wrong side of the
market, or 200 % of it), post-only crossing 43005, minimum notional 415. Duplicate client_oid
(204), open-order caps (318) and balance (306) need the engine's state and are checked by the
engine after this.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.domain.instrument import Instrument
from bot.domain.money import ZERO, to_decimal
from bot.domain.orders import OrderStatus, OrderType, Side
from bot.exchange.engine.order import EngineOrder, EngineReject

HUNDRED = Decimal(100)
MAX_TRIGGER_TIMES_MARK = Decimal(2)     # the help centre: a trigger price stays below 200 % of mark
STOP_TYPES = frozenset({OrderType.STOP_LOSS, OrderType.STOP_LIMIT})
TAKE_PROFIT_TYPES = frozenset({OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_LIMIT})
LIMIT_PRICED = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT})


def fires_when_falling(order_type: OrderType, side: Side) -> bool:
    """SELL stops and BUY take-profits fire when the price falls to the trigger; the rest when it rises."""
    return (order_type in STOP_TYPES) == (side is Side.SELL)


def _number(value: Any, code: str, what: str) -> Decimal:
    try:
        return to_decimal(value)
    except ValueError:
        raise EngineReject(code, f"{what} {value!r} is not a number") from None


def _on_tick(value: Decimal, tick: Decimal) -> bool:
    return value % tick == 0


def validate_order(instruments: dict[str, Instrument], last_prices: dict[str, Decimal], *, symbol: Any, side: Any,
                   order_type: Any, client_oid: Any, quantity: Any, price: Any, notional: Any, trigger_price: Any,
                   post_only: bool, advanced: bool, reference: Decimal | None,
                   slippage_percent: Decimal, taker_fee_percent: Decimal) -> EngineOrder:
    """A checked order spec (order_id empty, status NEW), or EngineReject."""
    try:
        side = Side(str(side).upper())
    except ValueError:
        raise EngineReject("220", f"side {side!r} is not BUY or SELL") from None
    try:
        kind = OrderType(str(order_type).upper())
    except ValueError:
        raise EngineReject("218", f"order type {order_type!r} is not supported") from None
    if kind.is_trigger and not advanced:
        raise EngineReject("140001", f"{kind.value} orders go to private/advanced/create-order")
    inst = instruments.get(str(symbol))
    if inst is None:
        raise EngineReject("209", f"unknown instrument {symbol!r}")
    last = last_prices.get(inst.symbol)

    limit = None
    if kind in LIMIT_PRICED:
        if price is None:
            raise EngineReject("308", f"{kind.value} needs a price")
        limit = _number(price, "308", "price")
        if limit <= 0 or not _on_tick(limit, inst.price_tick):
            raise EngineReject("308", f"price {limit} is not a positive multiple of {inst.price_tick}")

    trigger = None
    if kind.is_trigger:
        if trigger_price is None:
            raise EngineReject("229", f"{kind.value} needs a trigger price (ref_price)")
        trigger = _number(trigger_price, "308", "trigger price")
        if trigger <= 0 or not _on_tick(trigger, inst.price_tick):
            raise EngineReject("308", f"trigger price {trigger} is not a positive multiple of {inst.price_tick}")
        market = reference if reference is not None else last
        if market is None:
            raise EngineReject("207", f"no reference price for {inst.symbol} yet")
        falling = fires_when_falling(kind, side)
        if (falling and trigger >= market) or (not falling and trigger <= market):
            where = "below" if falling else "above"
            raise EngineReject("229", f"a {side.value} {kind.value} triggers {where} the market ({market}), "
                                      f"not at {trigger}")
        if trigger >= market * MAX_TRIGGER_TIMES_MARK:
            raise EngineReject("229", f"trigger price {trigger} is not below {MAX_TRIGGER_TIMES_MARK * 100}% "
                                      f"of the mark price ({market})")

    spend = None
    if kind is OrderType.MARKET and last is None:
        raise EngineReject("207", f"no market price for {inst.symbol} yet")
    if kind is OrderType.MARKET and side is Side.BUY and quantity is None and notional is not None:
        spend = _number(notional, "213", "notional")
        if spend <= 0:
            raise EngineReject("213", f"notional {spend} must be positive")
        assert last is not None
        fill = last * (1 + slippage_percent / HUNDRED)
        # The notional is all the quote spent, fee included.
        qty = inst.floor_qty(spend / (fill * (1 + taker_fee_percent / HUNDRED)))
        if spend < inst.min_notional:
            raise EngineReject("415", f"notional {spend} is below the minimum {inst.min_notional}")
        if qty <= 0:
            raise EngineReject("213", f"notional {spend} buys less than one quantity step")
    else:
        if quantity is None:
            raise EngineReject("213", "quantity is required")
        qty = _number(quantity, "213", "quantity")
        if qty <= 0 or not _on_tick(qty, inst.qty_tick):
            raise EngineReject("213", f"quantity {qty} is not a positive multiple of {inst.qty_tick}")

    if post_only:
        crosses = kind is OrderType.LIMIT and last is not None and limit is not None and (
            limit >= last if side is Side.BUY else limit <= last)
        if crosses:
            raise EngineReject("43005", f"post-only {side.value} at {limit} would trade at once (market {last})")

    valued_at = limit if limit is not None else trigger if trigger is not None else last
    value = spend if spend is not None else qty * (valued_at or ZERO)
    if value < inst.min_notional:
        raise EngineReject("415", f"order value {value} is below the minimum {inst.min_notional}")

    return EngineOrder(order_id="", client_oid=str(client_oid or ""), symbol=inst.symbol, side=side,
                       order_type=kind, status=OrderStatus.NEW, quantity=qty, price=limit, trigger_price=trigger,
                       notional=spend, post_only=post_only)
