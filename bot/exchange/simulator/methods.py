"""The v1 methods the simulator answers: public market data, the private account and order
methods ccxt and the live adapter use, and the `private/advanced/*` trigger and list orders.

Each handler takes the simulator and the request params and returns the `result` block (None
when the real method answers without one), or raises Refusal / EngineReject with the v1 code.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bot.domain.orders import OrderType
from bot.exchange.engine import EngineOrder
from bot.exchange.simulator.core import Refusal, Simulator
from bot.exchange.simulator.market import TIMEFRAMES, ticker_object, to_ms, to_ns
from bot.exchange.simulator.wire import (
    balance_object,
    candle_object,
    in_regular_lists,
    instrument_object,
    is_advanced,
)

DAY_NS = 86_400 * 10**9
STABLE = frozenset({"USD", "USDT", "USDC", "DAI", "TUSD", "PYUSD", "FDUSD"})
TIME_IN_FORCE = frozenset({"GOOD_TILL_CANCEL", "IMMEDIATE_OR_CANCEL", "FILL_OR_KILL"})
EXEC_INST = frozenset({"POST_ONLY", "SMART_POST_ONLY", "REDUCE_ONLY", "ISOLATED_MARGIN", "MARGIN_ORDER"})

Handler = Callable[[Simulator, dict[str, Any]], Any]


def _required(params: dict[str, Any], *names: str) -> None:
    missing = [n for n in names if params.get(n) in (None, "")]
    if missing:
        raise Refusal("40004", f"missing {', '.join(missing)}")


def _int(params: dict[str, Any], name: str, default: int) -> int:
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        return int(str(value))
    except ValueError:
        raise Refusal("40004", f"{name} {value!r} is not an integer") from None


# --- public ------------------------------------------------------------------------------------


def get_instruments(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    return {"data": [instrument_object(inst) for inst in sim.engine.instruments.values()]}


def get_tickers(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    wanted = params.get("instrument_name")
    if wanted and wanted not in sim.engine.instruments:
        raise Refusal("209", f"unknown instrument {wanted}")
    data = []
    for symbol, inst in sim.engine.instruments.items():
        last = sim.engine.last_price(symbol)
        if (wanted and symbol != wanted) or last is None:
            continue
        data.append(ticker_object(symbol, last, inst.price_tick, sim.candles.day_stats(symbol), sim.now_ms()))
    return {"data": data}


def get_candlestick(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    _required(params, "instrument_name")
    symbol = str(params["instrument_name"])
    if symbol not in sim.engine.instruments:
        raise Refusal("209", f"unknown instrument {symbol}")
    timeframe = str(params.get("timeframe") or "1m")
    start = params.get("start_ts")
    end = params.get("end_ts")
    candles = sim.candles.page(symbol, timeframe, count=_int(params, "count", 25),
                               start_ms=to_ms(start) if start not in (None, "") else None,
                               end_ms=to_ms(end) if end not in (None, "") else None)
    if candles is None:
        raise Refusal("40004", f"timeframe {timeframe!r} is not one of {', '.join(TIMEFRAMES)}")
    return {"interval": timeframe, "instrument_name": symbol, "data": [candle_object(c) for c in candles]}


def get_book(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    _required(params, "instrument_name")
    symbol = str(params["instrument_name"])
    inst = sim.engine.instruments.get(symbol)
    if inst is None:
        raise Refusal("209", f"unknown instrument {symbol}")
    last = sim.engine.last_price(symbol) or Decimal(0)
    depth = min(_int(params, "depth", 10), 50)
    bids = [[str(last - inst.price_tick * (i + 1)), "1", "1"] for i in range(depth)]
    asks = [[str(last + inst.price_tick * (i + 1)), "1", "1"] for i in range(depth)]
    return {"instrument_name": symbol, "depth": depth, "data": [{"bids": bids, "asks": asks, "t": sim.now_ms()}]}


def get_risk_parameters(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    bases = sorted({inst.base for inst in sim.engine.instruments.values()})
    minimum = min((inst.min_notional for inst in sim.engine.instruments.values()), default=Decimal(1))
    return {"default_max_product_leverage_for_spot": "1",
            "base_currency_config": [{"instrument_name": b, "min_order_notional_usd": str(minimum),
                                      "max_order_notional_usd": "5000000"} for b in bases]}


# --- private: account ----------------------------------------------------------------------------


def _usd_price(sim: Simulator, asset: str) -> Decimal | None:
    if asset in STABLE:
        return Decimal(1)
    for quote in ("USD", "USDT"):
        price = sim.engine.last_price(f"{asset}_{quote}")
        if price is not None:
            return price
    return None


def user_balance(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    balances = sim.engine.balances()
    return balance_object(balances, {asset: _usd_price(sim, asset) for asset in balances})


def get_currency_networks(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    assets = sorted({a for inst in sim.engine.instruments.values() for a in (inst.base, inst.quote)})
    return {"update_time": sim.now_ms(), "currency_map": {
        a: {"full_name": a, "default_network": None, "network_list": []} for a in assets}}


# --- private: orders -----------------------------------------------------------------------------


def _leg(sim: Simulator, params: dict[str, Any], *, advanced: bool, nonce_oid: str | None = None) -> dict[str, Any]:
    """An order request's params in the engine's terms (validation happens in the engine; a trigger
    on the plain endpoint is its 140001, whatever else is missing)."""
    _required(params, "instrument_name", "side", "type")
    ref_type = params.get("ref_price_type")
    if (advanced and ref_type in (None, "") and sim.config.require_ref_price_type
            and _is_trigger_type(params.get("type"))):
        # Optional in the reference, but the exchange refuses a trigger without it in practice.
        raise Refusal("40004", "ref_price_type is required on a trigger order")
    if ref_type not in (None, "", "MARK_PRICE", "INDEX_PRICE", "LAST_PRICE"):
        raise Refusal("230", f"ref_price_type {ref_type!r}")
    return {"symbol": params["instrument_name"], "side": params["side"], "order_type": params["type"],
            "client_oid": str(params.get("client_oid") or nonce_oid or ""), "quantity": params.get("quantity"),
            "price": params.get("price"), "notional": params.get("notional"),
            "trigger_price": params.get("ref_price")}


def _is_trigger_type(value: Any) -> bool:
    try:
        return OrderType(str(value or "").upper()).is_trigger
    except ValueError:
        return False


def _exec_options(params: dict[str, Any]) -> tuple[str, bool]:
    tif = str(params.get("time_in_force") or "GOOD_TILL_CANCEL")
    if tif not in TIME_IN_FORCE:
        raise Refusal("221", f"time_in_force {tif!r}")
    inst = params.get("exec_inst") or []
    if not isinstance(inst, list) or any(i not in EXEC_INST for i in inst):
        raise Refusal("219", f"exec_inst {inst!r}")
    post_only = "POST_ONLY" in inst
    if post_only and tif != "GOOD_TILL_CANCEL":
        raise Refusal("43005", "POST_ONLY needs GOOD_TILL_CANCEL")
    return tif, post_only


def _ack(order: EngineOrder) -> dict[str, Any]:
    return {"order_id": order.order_id, "client_oid": order.client_oid}


def _place(sim: Simulator, params: dict[str, Any], *, advanced: bool) -> dict[str, Any]:
    tif, post_only = _exec_options(params)
    leg = _leg(sim, params, advanced=advanced, nonce_oid=str(params.get("_nonce") or ""))
    order = sim.engine.place(**leg, now_ns=sim.clock(), advanced=advanced, post_only=post_only)
    if tif != "GOOD_TILL_CANCEL" and order.is_open and not order.order_type.is_trigger:
        # IOC / FOK: what did not trade on arrival is cancelled, with the reason code.
        sim.engine.cancel(order_id=order.order_id, now_ns=sim.clock())
        order.reason = "43004" if tif == "IMMEDIATE_OR_CANCEL" else "43003"
    return _ack(order)


def create_order(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    # A trigger type here is the engine's 140001: those moved to private/advanced/create-order.
    return _place(sim, params, advanced=False)


def advanced_create_order(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    kind = str(params.get("type") or "").upper()
    if kind in (OrderType.LIMIT.value, OrderType.MARKET.value):
        raise Refusal("218", f"{kind} orders go to private/create-order")
    return _place(sim, params, advanced=True)


def _find(sim: Simulator, params: dict[str, Any], *, advanced: bool) -> EngineOrder | None:
    """The order a regular (or advanced) method finds: each sees its own list (see wire.py)."""
    order_id, client_oid = params.get("order_id"), params.get("client_oid")
    if order_id in (None, "") and client_oid in (None, ""):
        raise Refusal("40004", "order_id or client_oid is required")
    find = sim.advanced_order if advanced else sim.regular_order
    if order_id not in (None, ""):
        return find(order_id=str(order_id))
    return find(client_oid=str(client_oid))


def _cancel(sim: Simulator, params: dict[str, Any], *, advanced: bool) -> dict[str, Any]:
    order = _find(sim, params, advanced=advanced)
    if order is None:
        raise Refusal("212", f"no order {params.get('order_id') or params.get('client_oid')}")
    sim.engine.cancel(order_id=order.order_id, now_ns=sim.clock())
    ack = _ack(order)
    if not advanced and order.order_id != str(params.get("order_id") or order.order_id):
        ack["order_id"] = str(params["order_id"])        # a fired trigger cancelled under its exchange id
    return ack


def cancel_order(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    return _cancel(sim, params, advanced=False)


def advanced_cancel_order(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    return _cancel(sim, params, advanced=True)


def cancel_all_orders(sim: Simulator, params: dict[str, Any]) -> None:
    symbol = params.get("instrument_name") or None
    kind = str(params.get("type") or "ALL")
    if kind not in ("LIMIT", "ALL", "TRIGGER"):
        raise Refusal("218", f"type {kind!r}")
    for order in sim.engine.open_orders(symbol):
        wanted = kind == "ALL" or (kind == "LIMIT") != order.order_type.is_trigger
        if wanted and order.is_open:
            sim.engine.cancel(order_id=order.order_id, now_ns=sim.clock())
    return None


def get_open_orders(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    symbol = params.get("instrument_name") or None
    if symbol and symbol not in sim.engine.instruments:
        raise Refusal("209", f"unknown instrument {symbol}")
    return {"data": [sim.regular_wire_order(o) for o in sim.engine.open_orders(symbol) if in_regular_lists(o)]}


def get_order_detail(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    order = _find(sim, params, advanced=False)
    if order is None:
        raise Refusal("40401", f"no order {params.get('order_id') or params.get('client_oid')}")
    return sim.regular_wire_order(order)


def advanced_order_detail(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    order = _find(sim, params, advanced=True)
    if order is None:
        raise Refusal("40401", f"no advanced order {params.get('order_id') or params.get('client_oid')}")
    return sim.wire_order(order)


def _window(sim: Simulator, params: dict[str, Any], *, max_days: int | None) -> tuple[int, int, int]:
    """[start, end) in ns and the page limit, by the real rules: ms or ns, default one day back
    from the end, end defaulting to now, `limit` at most 100."""
    end = to_ns(params["end_time"]) if params.get("end_time") not in (None, "") else sim.clock()
    start = to_ns(params["start_time"]) if params.get("start_time") not in (None, "") else end - DAY_NS
    limit = _int(params, "limit", 100)
    if not 0 < limit <= 100:
        raise Refusal("40004", f"limit {limit}: between 1 and 100")
    if start > end:
        raise Refusal("40005", "start_time is after end_time")
    if max_days is not None and end - start > max_days * DAY_NS:
        raise Refusal("40005", f"the window is longer than {max_days} days")
    return max(start, sim.clock() - sim.config.history_retention_days * DAY_NS), end, limit


def get_order_history(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    start, end, limit = _window(sim, params, max_days=None)
    symbol = params.get("instrument_name") or None
    page = sim.engine.history(start_ns=start, end_ns=end, limit=limit, symbol=symbol, where=in_regular_lists)
    return {"data": [sim.regular_wire_order(o) for o in page]}


def get_trades(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    start, end, limit = _window(sim, params, max_days=7)
    symbol = params.get("instrument_name") or None
    found = [t for t in reversed(sim.trades) if start <= int(t["create_time_ns"]) < end
             and (symbol is None or t["instrument_name"] == symbol)]
    return {"data": found[:limit]}


# --- private: advanced lists ---------------------------------------------------------------------


def _legs(sim: Simulator, params: dict[str, Any], count: int) -> list[dict[str, Any]]:
    legs = params.get("order_list")
    if not isinstance(legs, list) or len(legs) != count or not all(isinstance(leg, dict) for leg in legs):
        raise Refusal("40004", f"order_list must hold exactly {count} orders")
    for leg in legs:
        if leg.get("ref_price_type") not in (None, "", "MARK_PRICE") and count == 2:
            raise Refusal("230", "an OCO trigger leg uses MARK_PRICE only")
    return [_leg(sim, leg, advanced=True) for leg in legs]


def create_oco(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    list_id, _ = sim.engine.place_oco(_legs(sim, params, 2), sim.clock())
    return {"list_id": list_id}


def create_otoco(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    legs = _legs(sim, params, 3)
    # The engine wants the entry first; the exchange takes the legs in any order.
    legs.sort(key=lambda leg: str(leg["order_type"]).upper() not in ("LIMIT", "MARKET"))
    list_id, _ = sim.engine.place_otoco(legs, sim.clock())
    return {"list_id": list_id}


OCO_LISTS = frozenset({"OCO"})
OTOCO_LISTS = frozenset({"OTO", "OTOCO"})


def cancel_oco(sim: Simulator, params: dict[str, Any]) -> None:
    """OCO lists only: an OTOCO list is unknown to this method (212), as on the exchange."""
    _required(params, "list_id")
    sim.engine.cancel_list(str(params["list_id"]), sim.clock(), kinds=OCO_LISTS)
    return None


def cancel_otoco(sim: Simulator, params: dict[str, Any]) -> None:
    """`cancel-oto` and `cancel-otoco` alike (interchangeable for those lists); not for an OCO."""
    _required(params, "list_id")
    sim.engine.cancel_list(str(params["list_id"]), sim.clock(), kinds=OTOCO_LISTS)
    return None


def get_order_list_detail(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    ids = params.get("list_id_list") or ([params["list_id"]] if params.get("list_id") else [])
    if not isinstance(ids, list) or not ids:
        raise Refusal("40004", "list_id_list is required")
    legs = [sim.wire_order(o) for list_id in ids for o in sim.engine.list_orders(str(list_id))]
    return {"data": legs}


def advanced_open_orders(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    symbol = params.get("instrument_name") or None
    return {"data": [sim.wire_order(o) for o in sim.engine.open_orders(symbol) if is_advanced(o)]}


def advanced_order_history(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    start, end, limit = _window(sim, params, max_days=None)
    page = sim.engine.history(start_ns=start, end_ns=end, limit=limit, symbol=params.get("instrument_name") or None,
                              where=is_advanced)
    return {"data": [sim.wire_order(o) for o in page]}


METHODS: dict[str, Handler] = {
    "public/get-instruments": get_instruments,
    "public/get-tickers": get_tickers,
    "public/get-candlestick": get_candlestick,
    "public/get-book": get_book,
    "public/get-risk-parameters": get_risk_parameters,
    "private/user-balance": user_balance,
    "private/get-currency-networks": get_currency_networks,
    "private/create-order": create_order,
    "private/cancel-order": cancel_order,
    "private/cancel-all-orders": cancel_all_orders,
    "private/get-open-orders": get_open_orders,
    "private/get-order-detail": get_order_detail,
    "private/get-order-history": get_order_history,
    "private/get-trades": get_trades,
    "private/advanced/create-order": advanced_create_order,
    "private/advanced/cancel-order": advanced_cancel_order,
    "private/advanced/cancel-all-orders": cancel_all_orders,
    "private/advanced/create-oco": create_oco,
    "private/advanced/cancel-oco": cancel_oco,
    "private/advanced/create-otoco": create_otoco,
    "private/advanced/cancel-oto": cancel_otoco,
    "private/advanced/cancel-otoco": cancel_otoco,
    "private/advanced/get-open-orders": advanced_open_orders,
    "private/advanced/get-order-detail": advanced_order_detail,
    "private/advanced/get-order-history": advanced_order_history,
    "private/advanced/get-order-list-detail": get_order_list_detail,
}
WRITE_METHODS = frozenset({"private/create-order", "private/cancel-order", "private/cancel-all-orders",
                           "private/advanced/create-order", "private/advanced/cancel-order",
                           "private/advanced/cancel-all-orders", "private/advanced/create-oco",
                           "private/advanced/cancel-oco", "private/advanced/create-otoco",
                           "private/advanced/cancel-oto", "private/advanced/cancel-otoco"})
