"""crypto.com v1 wire format: parse what the exchange sends, build what we send. Pure functions.

Parsing is defensive (docs/cryptocom-exchange-v1.md, section 6): field names moved between doc
versions (`order_type`/`type`, `limit_price`/`price`, `ref_price`/`trigger_price`), numbers come
as strings or numbers, ids are int64 (kept as strings), and `cumulative_fee` changes sign.

Every request value is a plain string, rounded to the instrument's ticks: quantities down,
prices in the safe direction (`Instrument.round_price` roles, the paper exchange's conventions).
No booleans and no nulls ever go into params: their text differs between JSON and Python and
breaks the signature (section 11, pitfall 2).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bot.domain.instrument import Instrument
from bot.domain.money import ZERO, floor_to_step, plain, to_decimal
from bot.domain.orders import Order, OrderStatus, OrderType, Side
from bot.exchange.base import (
    Balance,
    Candle,
    OcoRequest,
    OrderRequest,
    OtocoRequest,
    Ticker,
    TriggerOrderRequest,
)
from bot.exchange.codes import error_for_code
from bot.exchange.errors import InvalidOrder

Params = dict[str, Any]

STOP_TYPES = (OrderType.STOP_LOSS, OrderType.STOP_LIMIT)
LIMIT_TRIGGER_TYPES = (OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT)
MAX_CLIENT_OID = 36
REF_PRICE_TYPE = "MARK_PRICE"

# Statuses seen in older payloads or other products, folded into the v1 vocabulary.
_STATUS_ALIASES = {"OPEN": "ACTIVE", "CANCELLED": "CANCELED", "PARTIALLY_FILLED": "ACTIVE"}
_NO_REASON = {"", "0", "NO_ERROR", "NULL_VAL"}

# Our timeframe names (ccxt-style and the exchange's own) -> the v1 enum.
_TIMEFRAMES = {"1m": "1m", "5m": "5m", "15m": "15m", "30m": "30m", "1h": "1h", "2h": "2h", "4h": "4h",
               "12h": "12h", "1d": "1D", "1D": "1D", "1w": "7D", "7D": "7D", "2w": "14D", "14D": "14D",
               "1M": "1M"}
_LEGACY_TIMEFRAMES = {"M1": "1m", "M5": "5m", "M15": "15m", "M30": "30m", "H1": "1h", "H2": "2h", "H4": "4h",
                      "H12": "12h", "D1": "1D"}


# --- parsing ---------------------------------------------------------------------------------


def number(value: Any) -> Decimal | None:
    """A wire number, or None for the ways the exchange says "nothing" (null, "", NULL_VAL)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip() in ("", "NULL_VAL", "null", "None"):
        return None
    try:
        return to_decimal(value)
    except ValueError:
        return None


def _positive(value: Any) -> Decimal | None:
    found = number(value)
    return found if found is not None and found > 0 else None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def _ms_to_datetime(value: Any) -> datetime | None:
    found = number(value)
    if found is None or found <= 0:
        return None
    return datetime.fromtimestamp(int(found) / 1000, UTC)


def parse_status(value: Any) -> OrderStatus:
    text = str(value or "").strip().upper()
    return OrderStatus(_STATUS_ALIASES.get(text, text))


def parse_order(data: Mapping[str, Any]) -> Order:
    """One v1 order object (open orders, detail, history, `user.order`, advanced legs)."""
    order_id = _text(data.get("order_id")) or _text(data.get("exchange_order_id"))
    if order_id is None:
        raise ValueError("order object without order_id")
    order_type = OrderType(str(data.get("order_type") or data.get("type") or "").upper())
    create_ns = number(data.get("create_time_ns"))
    create_ms = number(data.get("create_time"))
    if create_ns is None and create_ms is not None:
        create_ns = create_ms * 1_000_000
    fee = number(data.get("cumulative_fee"))
    reason = _text(data.get("reason")) or _text(data.get("reject_reason"))
    return Order(
        order_id=order_id,
        client_oid=_text(data.get("client_oid")),
        symbol=str(data.get("instrument_name") or ""),
        side=Side(str(data.get("side") or "").upper()),
        order_type=order_type,
        status=parse_status(data.get("status")),
        quantity=number(data.get("quantity")) or ZERO,
        # A market order reports limit_price "0": no price, not a price of zero.
        price=_positive(data.get("limit_price", data.get("price"))),
        trigger_price=_positive(data.get("ref_price", data.get("trigger_price"))),
        filled_quantity=number(data.get("cumulative_quantity")) or ZERO,
        avg_price=_positive(data.get("avg_price")),
        cumulative_value=number(data.get("cumulative_value")) or ZERO,
        fee=abs(fee) if fee is not None else ZERO,
        fee_currency=_text(data.get("fee_instrument_name")),
        list_id=_text(data.get("list_id")),
        reason=None if reason is None or reason.upper() in _NO_REASON else reason,
        created_at=_ms_to_datetime(create_ms if create_ms is not None else (create_ns or 0) / 1_000_000),
        updated_at=_ms_to_datetime(data.get("update_time")),
        create_time_ns=int(create_ns) if create_ns is not None else 0,
        raw=dict(data),
    )


def exchange_order_id(order: Order) -> str | None:
    """An advanced leg's id on the matching engine (present once accepted there), if it differs."""
    found = _text(order.raw.get("exchange_order_id"))
    return found if found and found != order.order_id else None


def parse_orders(items: Any) -> list[Order]:
    return [parse_order(item) for item in items or [] if isinstance(item, Mapping)]


def result_data(result: Any) -> list[Any]:
    """`result.data` (a list) whatever shape the result takes."""
    if isinstance(result, Mapping):
        data = result.get("data", result.get("order_list"))
        return list(data) if isinstance(data, list) else []
    return list(result) if isinstance(result, list) else []


def parse_instrument(data: Mapping[str, Any], min_notional: Decimal) -> Instrument | None:
    """A spot pair with its ticks; None for derivatives and malformed rows."""
    if data.get("inst_type") not in (None, "CCY_PAIR"):
        return None
    price_tick = _positive(data.get("price_tick_size"))
    qty_tick = _positive(data.get("qty_tick_size"))
    symbol = _text(data.get("symbol")) or _text(data.get("instrument_name"))
    if price_tick is None or qty_tick is None or symbol is None:
        return None
    base = _text(data.get("base_ccy")) or symbol.split("_")[0]
    quote = _text(data.get("quote_ccy")) or symbol.split("_")[-1]
    tradable = data.get("tradable", True)
    return Instrument(symbol, base, quote, price_tick, qty_tick, min_notional=min_notional,
                      tradable=tradable is not False and str(tradable).lower() != "false")


def parse_ticker(data: Mapping[str, Any]) -> Ticker:
    return Ticker(str(data.get("i") or data.get("instrument_name") or ""), number(data.get("a")),
                  number(data.get("b")), number(data.get("k")), number(data.get("h")), number(data.get("l")),
                  number(data.get("v")), int(number(data.get("t")) or 0))


def parse_candle(data: Mapping[str, Any]) -> Candle:
    def required(key: str) -> Decimal:
        found = number(data.get(key))
        if found is None:
            raise ValueError(f"candle without {key}")
        return found
    return Candle(int(required("t")), required("o"), required("h"), required("l"), required("c"), required("v"))


def parse_balances(result: Any) -> dict[str, Balance]:
    """`private/user-balance`: total = quantity, locked = reserved_qty, free = the difference."""
    out: dict[str, Balance] = {}
    for account in result_data(result):
        if not isinstance(account, Mapping):
            continue
        for position in account.get("position_balances") or []:
            asset = _text(position.get("instrument_name"))
            total = number(position.get("quantity"))
            if asset is None or total is None:
                continue
            locked = number(position.get("reserved_qty")) or ZERO
            if total == 0 and locked == 0:
                continue
            out[asset] = Balance(asset, total, total - locked, locked)
    return out


def exchange_timeframe(timeframe: str) -> str:
    if timeframe in _TIMEFRAMES:
        return _TIMEFRAMES[timeframe]
    if timeframe in _LEGACY_TIMEFRAMES:
        return _LEGACY_TIMEFRAMES[timeframe]
    raise ValueError(f"unknown timeframe {timeframe!r}; accepted: {', '.join(sorted(_TIMEFRAMES))}")


# --- building requests -----------------------------------------------------------------------


def _check_client_oid(client_oid: str) -> str:
    if not client_oid or len(client_oid) > MAX_CLIENT_OID:
        # Without our own id the exchange uses the nonce, which two orders can share.
        raise InvalidOrder(f"client_oid must be 1 to {MAX_CLIENT_OID} characters")
    return client_oid


def _quantity(inst: Instrument, quantity: Decimal | None) -> str:
    if quantity is None:
        raise error_for_code("213", "a quantity is required")
    floored = inst.floor_qty(quantity)
    if floored <= 0:
        raise error_for_code("213", f"{plain(quantity)} is below one step of {plain(inst.qty_tick)}")
    return plain(floored)


def _price(inst: Instrument, price: Decimal | None, side: Side, role: str = "limit") -> str:
    if price is None:
        raise error_for_code("308", "a price is required")
    rounded = inst.round_price(price, side, role=role)
    if rounded <= 0:
        raise error_for_code("308", f"{plain(price)} rounds to zero at a tick of {plain(inst.price_tick)}")
    return plain(rounded)


def order_params(inst: Instrument, request: OrderRequest) -> Params:
    """`private/create-order` params for a LIMIT or MARKET order. Trigger types are refused here:
    since the migration they belong to `private/advanced/create-order` (140001 otherwise)."""
    if request.order_type.is_trigger:
        raise error_for_code("140001", request.order_type.value)
    params: Params = {"instrument_name": inst.symbol, "side": request.side.value,
                      "type": request.order_type.value, "client_oid": _check_client_oid(request.client_oid)}
    if request.quantity is not None:
        params["quantity"] = _quantity(inst, request.quantity)
    elif request.order_type is OrderType.MARKET and request.side is Side.BUY and request.notional is not None:
        notional = floor_to_step(request.notional, inst.price_tick)
        if notional <= 0:
            raise error_for_code("213", "the amount to spend rounds to zero")
        params["notional"] = plain(notional)
    else:
        raise error_for_code("213", "a quantity is required (or an amount to spend for a MARKET BUY)")
    if request.order_type is OrderType.LIMIT:
        params["price"] = _price(inst, request.price, request.side)
        if request.post_only:
            params["exec_inst"] = ["POST_ONLY"]
            params["time_in_force"] = "GOOD_TILL_CANCEL"   # POST_ONLY needs GTC (43005 otherwise)
    return params


def trigger_leg(inst: Instrument, *, side: Side, order_type: OrderType, client_oid: str, quantity: Decimal,
                trigger_price: Decimal, price: Decimal | None = None) -> Params:
    """One trigger order (or OCO/OTOCO leg): `ref_price` is the trigger; `price` only for *_LIMIT.
    `ref_price_type` is optional in the reference but refused when missing in practice, and
    MARK_PRICE is the only value an OCO takes: always sent, always MARK_PRICE."""
    if not order_type.is_trigger:
        raise InvalidOrder(f"{order_type.value} is not a trigger order type")
    role = "stop_loss" if order_type in STOP_TYPES else "take_profit"
    params: Params = {"instrument_name": inst.symbol, "side": side.value, "type": order_type.value,
                      "quantity": _quantity(inst, quantity), "ref_price": _price(inst, trigger_price, side, role),
                      "ref_price_type": REF_PRICE_TYPE, "client_oid": _check_client_oid(client_oid)}
    if order_type in LIMIT_TRIGGER_TYPES:
        params["price"] = _price(inst, price, side)
    return params


def trigger_params(inst: Instrument, request: TriggerOrderRequest) -> Params:
    return trigger_leg(inst, side=request.side, order_type=request.order_type, client_oid=request.client_oid,
                       quantity=request.quantity, trigger_price=request.trigger_price, price=request.price)


def oco_params(inst: Instrument, request: OcoRequest) -> Params:
    """`private/advanced/create-oco`: exactly one LIMIT leg and one trigger leg (MARK_PRICE)."""
    take_profit: Params = {"instrument_name": inst.symbol, "side": request.side.value, "type": "LIMIT",
                           "quantity": _quantity(inst, request.quantity),
                           "price": _price(inst, request.take_profit_price, request.side, "take_profit"),
                           "client_oid": _check_client_oid(request.take_profit_client_oid)}
    kind = OrderType.STOP_LOSS if request.stop_loss_limit_price is None else OrderType.STOP_LIMIT
    stop = trigger_leg(inst, side=request.side, order_type=kind, client_oid=request.stop_loss_client_oid,
                       quantity=request.quantity, trigger_price=request.stop_loss_trigger,
                       price=request.stop_loss_limit_price)
    if take_profit["client_oid"] == stop["client_oid"]:
        raise InvalidOrder("the two legs of an OCO need different client_oids")
    return {"order_list": [take_profit, stop]}


def otoco_params(inst: Instrument, request: OtocoRequest) -> Params:
    """`private/advanced/create-otoco`: entry, then a STOP_LOSS and a TAKE_PROFIT_LIMIT exit leg
    for the entry's (floored) quantity, as the paper exchange builds them."""
    entry = request.entry
    if entry.order_type not in (OrderType.LIMIT, OrderType.MARKET):
        raise InvalidOrder("an OTOCO entry is a LIMIT or MARKET order")
    if entry.quantity is None:
        raise error_for_code("213", "an OTOCO entry needs a quantity")
    quantity = inst.floor_qty(entry.quantity)
    entry_leg = order_params(inst, OrderRequest(symbol=inst.symbol, side=entry.side, order_type=entry.order_type,
                                                client_oid=entry.client_oid, quantity=quantity,
                                                price=entry.price))
    exit_side = Side.SELL if entry.side is Side.BUY else Side.BUY
    stop = trigger_leg(inst, side=exit_side, order_type=OrderType.STOP_LOSS, client_oid=request.stop_loss_client_oid,
                       quantity=quantity, trigger_price=request.stop_loss_trigger)
    profit = trigger_leg(inst, side=exit_side, order_type=OrderType.TAKE_PROFIT_LIMIT,
                         client_oid=request.take_profit_client_oid, quantity=quantity,
                         trigger_price=request.take_profit_price, price=request.take_profit_price)
    # The take-profit's limit rounds like its trigger: never below the asked profit.
    profit["price"] = _price(inst, request.take_profit_price, exit_side, "take_profit")
    oids = {entry_leg["client_oid"], stop["client_oid"], profit["client_oid"]}
    if len(oids) != 3:
        raise InvalidOrder("the three legs of an OTOCO need different client_oids")
    return {"order_list": [entry_leg, stop, profit]}


def provisional_order(params: Params, ack: Any, *, list_id: str | None = None) -> Order:
    """The order as acknowledged: the exchange has accepted it for processing, no more (the real
    state arrives on `user.order` or a detail lookup)."""
    ack = ack if isinstance(ack, Mapping) else {}
    order_id = _text(ack.get("order_id"))
    if order_id is None:
        raise ValueError("acknowledgement without order_id")
    return Order(order_id=order_id, client_oid=_text(ack.get("client_oid")) or params.get("client_oid"),
                 symbol=params["instrument_name"], side=Side(params["side"]), order_type=OrderType(params["type"]),
                 status=OrderStatus.NEW, quantity=number(params.get("quantity")) or ZERO,
                 price=number(params.get("price")), trigger_price=number(params.get("ref_price")),
                 list_id=list_id, raw={"ack": dict(ack), "notional": params.get("notional")})
