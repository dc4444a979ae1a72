"""What the simulator says on the wire: engine state as crypto.com v1 JSON objects.

Numbers go out as strings and ids as strings (they are int64, beyond a float's 2**53), as the
real exchange does in its current documentation (docs/cryptocom-exchange-v1.md, sections 3, 4, 6).

Advanced orders (trigger orders and list legs, placed through `private/advanced/*`) have two faces,
as on the exchange since 2026-05-07 (section 14): in the advanced lists and on `user.advance.order`
under their own `order_id`, with an `exchange_order_id` once the matching engine has accepted them
(a trigger when it fires, a list's LIMIT/MARKET leg when it goes live); and in the regular lists
(open orders, history, detail) only from then on, under that `exchange_order_id`, as the plain
order they became. A client merging both lists sees one order twice unless it also compares
client_oids.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bot.domain.instrument import Instrument
from bot.domain.money import ZERO, plain
from bot.domain.orders import OrderType
from bot.exchange.base import Candle
from bot.exchange.engine import EngineOrder

ACCOUNT_ID = "sim-account-0001"
EXCHANGE_ID_OFFSET = 10**18          # engine id + offset = the id the regular lists show (still int64)
# A fired trigger is a plain order in the regular lists.
_FIRED_AS = {OrderType.STOP_LOSS: OrderType.MARKET, OrderType.TAKE_PROFIT: OrderType.MARKET,
             OrderType.STOP_LIMIT: OrderType.LIMIT, OrderType.TAKE_PROFIT_LIMIT: OrderType.LIMIT}
_ADVANCED_ONLY_FIELDS = ("ref_price", "ref_price_type", "list_id", "contingency_type", "leg_id",
                         "exchange_order_id")


def is_advanced(order: EngineOrder) -> bool:
    return order.order_type.is_trigger or order.list_id is not None


def exchange_order_id(order: EngineOrder) -> str | None:
    """The id of an advanced order on the matching engine, once it is there (None before; None for a
    regular order, whose order_id is that id)."""
    if not is_advanced(order):
        return None
    accepted = order.triggered if order.order_type.is_trigger else order.waiting_for is None
    return str(int(order.order_id) + EXCHANGE_ID_OFFSET) if accepted else None


def engine_id_for(exchange_id: str) -> str | None:
    """The engine id behind an id of the regular lists that belongs to an advanced order."""
    try:
        value = int(exchange_id)
    except ValueError:
        return None
    return str(value - EXCHANGE_ID_OFFSET) if value > EXCHANGE_ID_OFFSET else None


def in_regular_lists(order: EngineOrder) -> bool:
    return not is_advanced(order) or exchange_order_id(order) is not None


def _decimals(step: Decimal) -> int:
    return max(0, -int(step.normalize().as_tuple().exponent))


def instrument_object(inst: Instrument) -> dict[str, Any]:
    return {
        "symbol": inst.symbol, "inst_type": "CCY_PAIR", "display_name": f"{inst.base}/{inst.quote}",
        "base_ccy": inst.base, "quote_ccy": inst.quote,
        "quote_decimals": _decimals(inst.price_tick), "quantity_decimals": _decimals(inst.qty_tick),
        "price_tick_size": plain(inst.price_tick), "qty_tick_size": plain(inst.qty_tick),
        "max_leverage": "1", "tradable": inst.tradable, "expiry_timestamp_ms": 0, "beta_product": False,
        "underlying_symbol": "", "contract_size": "1", "margin_buy_enabled": False, "margin_sell_enabled": False,
        "product_type": "DIGITAL_CURRENCIES",
    }


def regular_order_object(order: EngineOrder, *, maker_fee_percent: Decimal,
                         taker_fee_percent: Decimal) -> dict[str, Any]:
    """The order as the regular lists show it (an advanced one: under its exchange_order_id)."""
    obj = order_object(order, maker_fee_percent=maker_fee_percent, taker_fee_percent=taker_fee_percent)
    exchange_id = exchange_order_id(order)
    if exchange_id is None:
        return obj
    for key in _ADVANCED_ONLY_FIELDS:
        obj.pop(key, None)
    obj["order_id"] = exchange_id
    obj["order_type"] = _FIRED_AS.get(order.order_type, order.order_type).value
    return obj


def order_object(order: EngineOrder, *, maker_fee_percent: Decimal, taker_fee_percent: Decimal) -> dict[str, Any]:
    """The order under its own id (an advanced one as the advanced lists show it)."""
    created_ms = order.create_time_ns // 1_000_000
    obj: dict[str, Any] = {
        "account_id": ACCOUNT_ID,
        "order_id": order.order_id,
        "client_oid": order.client_oid,
        "order_type": order.order_type.value,
        "time_in_force": "GOOD_TILL_CANCEL",
        "side": order.side.value,
        "exec_inst": ["POST_ONLY"] if order.post_only else [],
        "quantity": plain(order.quantity),
        "order_value": plain(order.quantity * (order.price or order.trigger_price or ZERO)),
        "maker_fee_rate": plain(maker_fee_percent / 100),
        "taker_fee_rate": plain(taker_fee_percent / 100),
        "avg_price": plain(order.avg_price or ZERO),
        "cumulative_quantity": plain(order.filled_quantity),
        "cumulative_value": plain(order.cumulative_value),
        # Positive here; other payloads of the real exchange send it negative (section 6).
        "cumulative_fee": plain(order.fee),
        "fee_instrument_name": order.fee_currency or "",
        "status": order.status.value,
        "update_user_id": "",
        "order_date": datetime.fromtimestamp(created_ms / 1000, UTC).strftime("%Y-%m-%d"),
        "instrument_name": order.symbol,
        "create_time": created_ms,
        "create_time_ns": str(order.create_time_ns),
        "update_time": order.update_time_ns // 1_000_000,
        "transaction_time_ns": str(order.update_time_ns),
    }
    if order.price is not None:
        obj["limit_price"] = plain(order.price)
    if order.trigger_price is not None:
        obj["ref_price"] = plain(order.trigger_price)
        obj["ref_price_type"] = "MARK_PRICE"
    if order.reason is not None:
        obj["reason"] = order.reason
    if order.list_id is not None:
        obj["list_id"] = order.list_id
        obj["contingency_type"] = order.contingency_type or ""
        obj["leg_id"] = order.leg_role or ""
    exchange_id = exchange_order_id(order)
    if exchange_id is not None:
        obj["exchange_order_id"] = exchange_id
    if order.notional is not None:
        obj["notional"] = plain(order.notional)
    return obj


def candle_object(candle: Candle) -> dict[str, Any]:
    return {"o": plain(candle.open), "h": plain(candle.high), "l": plain(candle.low), "c": plain(candle.close),
            "v": plain(candle.volume), "t": candle.timestamp_ms}


def balance_object(balances: dict[str, tuple[Decimal, Decimal]], prices_usd: dict[str, Decimal | None]) -> dict:
    """`private/user-balance`: one unified USD account whose `position_balances` carry each asset."""
    positions = []
    total_value = ZERO
    for asset, (total, locked) in sorted(balances.items()):
        price = prices_usd.get(asset)
        value = total * price if price is not None else ZERO
        total_value += value
        positions.append({"instrument_name": asset, "quantity": plain(total), "reserved_qty": plain(locked),
                          "market_value": plain(value), "collateral_eligible": "true", "haircut": "0",
                          "collateral_amount": plain(value), "max_withdrawal_balance": plain(total - locked)})
    money = plain(total_value)
    return {"data": [{"instrument_name": "USD", "total_available_balance": money, "total_margin_balance": money,
                      "total_initial_margin": "0", "total_maintenance_margin": "0", "total_position_cost": "0",
                      "total_cash_balance": money, "total_collateral_value": money,
                      "total_session_unrealized_pnl": "0", "total_session_realized_pnl": "0",
                      "is_liquidating": False, "total_effective_leverage": "0", "position_limit": "0",
                      "used_position_limit": "0", "position_balances": positions}]}
