"""The simulator's state and request pipeline, independent of HTTP: the same checks answer REST and
WebSocket requests. The matching engine (bot/exchange/engine/) does the trading.

Pipeline of a private request: envelope -> key and signature (40101) -> nonce window (40102) ->
record -> injected faults -> rate limit (42901) -> the method (engine codes) -> answer; the checks
are here, the rest is `pipeline.answer`.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bot.domain.instrument import Instrument
from bot.exchange.base import Candle
from bot.exchange.codes import name_of
from bot.exchange.engine import EngineOrder, MatchingEngine
from bot.exchange.simulator.faults import FaultInjector
from bot.exchange.simulator.market import CandleBook
from bot.exchange.simulator.ratelimit import RateLimiter
from bot.exchange.simulator.wire import (
    engine_id_for,
    in_regular_lists,
    is_advanced,
    order_object,
    regular_order_object,
)
from bot.exchange.v1_signing import signature_matches

log = logging.getLogger(__name__)

D = Decimal
DEFAULT_INSTRUMENTS = {
    "BTC_USDT": Instrument("BTC_USDT", "BTC", "USDT", D("0.01"), D("0.00001"), min_notional=D(1)),
    "ETH_USDT": Instrument("ETH_USDT", "ETH", "USDT", D("0.01"), D("0.0001"), min_notional=D(1)),
    "CRO_USDT": Instrument("CRO_USDT", "CRO", "USDT", D("0.00001"), D(1), min_notional=D(1)),
}
DEFAULT_PRICES = {"BTC_USDT": D(100000), "ETH_USDT": D(3500), "CRO_USDT": D("0.1")}
ORDER_CHANNEL = "user.order"
ADVANCED_CHANNEL = "user.advance.order"       # the subscribe reference's spelling

@dataclass
class SimulatorConfig:
    instruments: dict[str, Instrument] | None = None       # None: BTC_USDT, ETH_USDT, CRO_USDT
    balances: dict[str, Decimal] = field(default_factory=lambda: {"USDT": D(100000)})
    prices: dict[str, Decimal] | None = None               # None: DEFAULT_PRICES for known symbols
    candles: dict[str, list[Candle]] | None = None         # base-timeframe candles per symbol
    candle_timeframe: str = "1h"
    api_key: str = "sim-key"
    api_secret: str = "sim-secret"
    rate_limits: bool = True
    nonce_window_ms: int = 60_000
    heartbeat_seconds: float = 30.0
    heartbeat_timeout_seconds: float = 5.0
    ack_delay_seconds: float = 0.0                         # delay of user.order pushes after the ack
    maker_fee_percent: Decimal = Decimal("0.25")
    taker_fee_percent: Decimal = Decimal("0.5")
    slippage_percent: Decimal = Decimal("0.05")
    max_open_per_symbol: int = 200
    max_open_total: int = 1000
    history_retention_days: int = 183
    buy_fee_in_base: bool = False                          # a buy's fee taken from the coin received
    trigger_orders_lock: bool = True                       # untriggered stops reserve their funds
    require_ref_price_type: bool = True                    # a trigger without ref_price_type: 40004
    # Advanced orders (triggers, list legs) are pushed on `user.advance.order`, as the reference says;
    # True pushes them on `user.order` as well (undocumented either way: this tries both worlds).
    mirror_advanced_on_user_order: bool = False
    advanced_channel_label: str = ADVANCED_CHANNEL        # the `channel` field of those pushes

    @staticmethod
    def generated_credentials() -> tuple[str, str]:
        return f"sim-{secrets.token_hex(8)}", secrets.token_hex(24)


@dataclass(frozen=True)
class RecordedCall:
    method: str
    params: dict[str, Any]
    code: str
    transport: str            # "rest" | "ws"
    at_ns: int


@dataclass(frozen=True)
class Answer:
    code: str
    result: Any = None
    message: str = ""
    detail: str = ""
    http_status: int | None = None        # a raw HTTP error (injected 5xx): no JSON body
    drop: bool = False                    # processed, then the connection is dropped
    garble: str | None = None             # processed, then a broken answer (faults.GARBLE_STYLES)
    garble_status: int = 200

    @property
    def ok(self) -> bool:
        return self.code == "0" and self.http_status is None

    def body(self, request_id: Any, method: str) -> dict[str, Any]:
        """The v1 response envelope (REST body and WebSocket reply alike)."""
        body: dict[str, Any] = {"id": request_id, "method": method, "code": int(self.code)}
        if self.code == "0":
            if self.result is not None:
                body["result"] = self.result
        else:
            body["message"] = self.message
            if self.detail:
                body["detail"] = self.detail
        return body


class Refusal(Exception):
    """A v1 error answer from a method handler or the envelope checks."""

    def __init__(self, code: str | int, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}")
        self.code = str(code)
        self.detail = detail


Listener = Callable[[str, str, dict[str, Any]], None]     # (channel, instrument, data object)


class Simulator:
    def __init__(self, config: SimulatorConfig | None = None, *, clock: Callable[[], int] = time.time_ns) -> None:
        self.config = config or SimulatorConfig()
        self.clock = clock
        instruments = dict(self.config.instruments or DEFAULT_INSTRUMENTS)
        self.engine = MatchingEngine(instruments, dict(self.config.balances),
                                     maker_fee_percent=self.config.maker_fee_percent,
                                     taker_fee_percent=self.config.taker_fee_percent,
                                     slippage_percent=self.config.slippage_percent,
                                     max_open_per_symbol=self.config.max_open_per_symbol,
                                     max_open_total=self.config.max_open_total)
        self.engine.buy_fee_in_base = self.config.buy_fee_in_base
        self.engine.trigger_orders_lock = self.config.trigger_orders_lock
        prices = self.config.prices if self.config.prices is not None else {
            s: p for s, p in DEFAULT_PRICES.items() if s in instruments}
        for symbol, price in prices.items():
            self.engine.set_price(symbol, D(price), self.clock())
        self.candles = CandleBook(self.config.candles, self.config.candle_timeframe)
        self.faults = FaultInjector()
        self.limiter = RateLimiter(enabled=self.config.rate_limits)
        self.calls: list[RecordedCall] = []
        self.trades: list[dict[str, Any]] = []
        self.listeners: list[Listener] = []
        self._seen_fills: dict[str, tuple[Decimal, Decimal, Decimal]] = {}
        self._trade_ids = 7_000_000_000_000_000_001
        self.engine.listeners.append(self._on_order_change)

    # --- credentials and envelope ----------------------------------------------------------------

    def now_ms(self) -> int:
        return self.clock() // 1_000_000

    def check_signed(self, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """A private REST request's method and params, or Refusal (40003 / 40101 / 40102)."""
        method, params = self.check_envelope(body)
        self.check_key(method, body, params)
        return method, params

    def check_key(self, method: str, body: dict[str, Any], params: dict[str, Any]) -> str:
        """The request's api_key when it and the signature match (REST and WebSocket auth alike)."""
        key, sig = body.get("api_key"), body.get("sig")
        if key != self.config.api_key or not isinstance(sig, str) or not signature_matches(
                self.config.api_secret, method, body.get("id"), str(key), params, body.get("nonce"), sig):
            raise Refusal("40101", "api_key or signature does not match")
        return str(key)

    def record(self, method: str, params: dict[str, Any], code: str, transport: str) -> None:
        self.calls.append(RecordedCall(method, params, code, transport, self.clock()))

    def check_envelope(self, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        method, params = body.get("method"), body.get("params")
        if not isinstance(method, str) or "id" not in body:
            raise Refusal("40003", "the request needs id, method, params and nonce")
        if not isinstance(params, dict):
            raise Refusal("40003", "params must be an object ({} when there are none)")
        self.check_nonce(body.get("nonce"))
        return method, params

    def check_nonce(self, nonce: Any) -> None:
        try:
            value = int(str(nonce))
        except ValueError:
            raise Refusal("40102", f"nonce {nonce!r} is not epoch milliseconds") from None
        if abs(value - self.now_ms()) > self.config.nonce_window_ms:
            raise Refusal("40102", f"nonce {value} is more than {self.config.nonce_window_ms // 1000} s "
                                   f"from server time {self.now_ms()}")

    @staticmethod
    def refusal(code: str, detail: str) -> Answer:
        return Answer(code, None, name_of(code), detail)

    # --- market control ----------------------------------------------------------------------------

    def set_price(self, symbol: str, price: Decimal | str | int) -> list[EngineOrder]:
        """Move the market (the mark price): trigger orders fire, resting limits fill."""
        return self.engine.set_price(symbol, D(price), self.clock())

    def apply_candle(self, symbol: str, candle: Candle) -> list[EngineOrder]:
        return self.engine.apply_candle(symbol, candle, self.clock())

    # --- engine events -> user channels ----------------------------------------------------------

    def wire_order(self, order: EngineOrder) -> dict[str, Any]:
        """The order under its own id (an advanced one as the advanced lists and channel show it)."""
        return order_object(order, maker_fee_percent=self.engine.maker_fee_percent,
                            taker_fee_percent=self.engine.taker_fee_percent)

    def regular_wire_order(self, order: EngineOrder) -> dict[str, Any]:
        """The order as the regular lists show it (see simulator/wire.py)."""
        return regular_order_object(order, maker_fee_percent=self.engine.maker_fee_percent,
                                    taker_fee_percent=self.engine.taker_fee_percent)

    def regular_order(self, *, order_id: str | None = None, client_oid: str | None = None) -> EngineOrder | None:
        """What the regular methods find: regular orders, and advanced ones under their exchange id."""
        if order_id is not None:
            order = self.engine.get(order_id=order_id)
            if order is None and (engine_id := engine_id_for(order_id)) is not None:
                order = self.engine.get(order_id=engine_id)
                return order if order is not None and is_advanced(order) and in_regular_lists(order) else None
            return order if order is not None and not is_advanced(order) else None
        order = self.engine.get(client_oid=client_oid)
        return order if order is not None and in_regular_lists(order) else None

    def advanced_order(self, *, order_id: str | None = None, client_oid: str | None = None) -> EngineOrder | None:
        order = self.engine.get(order_id=order_id, client_oid=client_oid)
        return order if order is not None and is_advanced(order) else None

    def _on_order_change(self, order: EngineOrder) -> None:
        obj = self.wire_order(order)
        self._record_trade(order)
        channels = [ORDER_CHANNEL]
        if is_advanced(order):
            channels = [ADVANCED_CHANNEL, ORDER_CHANNEL] if self.config.mirror_advanced_on_user_order \
                else [ADVANCED_CHANNEL]
        for listener in list(self.listeners):
            for channel in channels:
                listener(channel, order.symbol, obj)

    def _record_trade(self, order: EngineOrder) -> None:
        filled, value, fee = self._seen_fills.get(order.order_id, (D(0), D(0), D(0)))
        if order.filled_quantity <= filled:
            return
        qty, traded_value = order.filled_quantity - filled, order.cumulative_value - value
        self._seen_fills[order.order_id] = (order.filled_quantity, order.cumulative_value, order.fee)
        self._trade_ids += 1
        now = self.clock()
        trade = {"account_id": "sim-account-0001", "event_date": time.strftime("%Y-%m-%d", time.gmtime(now / 1e9)),
                 "journal_type": "TRADING", "side": order.side.value, "instrument_name": order.symbol,
                 "fees": str(-(order.fee - fee)), "fee_instrument_name": order.fee_currency or "",
                 "trade_id": str(self._trade_ids), "trade_match_id": str(self._trade_ids),
                 "order_id": order.order_id, "client_oid": order.client_oid, "taker_side": "",
                 "traded_price": str(traded_value / qty), "traded_quantity": str(qty),
                 "create_time": now // 1_000_000, "create_time_ns": str(now), "transact_time_ns": str(now),
                 "match_count": "1", "match_index": "0"}
        self.trades.append(trade)
        for listener in list(self.listeners):
            listener("user.trade", order.symbol, trade)

    # --- seeding -----------------------------------------------------------------------------------

    def seed_history(self, count: int, *, symbol: str = "BTC_USDT", start_ns: int | None = None,
                     end_ns: int | None = None, price: Decimal | None = None) -> list[EngineOrder]:
        """`count` final orders (alternating FILLED buys and CANCELED sells) spread evenly over
        [start, end): an account with a long past, for sync and back-fill tests and benchmarks."""
        from bot.domain.orders import OrderStatus, OrderType, Side

        now = self.clock()
        end = end_ns if end_ns is not None else now - 60 * 10**9
        start = start_ns if start_ns is not None else end - 180 * 86_400 * 10**9
        at = price if price is not None else (self.engine.last_price(symbol) or D(100))
        inst = self.engine.instruments[symbol]
        step = max(1, (end - start) // max(count, 1))
        orders = []
        for index in range(count):
            created = start + index * step
            filled = index % 2 == 0
            qty = inst.qty_tick * 10
            order = EngineOrder(order_id=str(5_000_000_000_000_000_001 + index), client_oid=f"seed-{index}",
                                symbol=symbol, side=Side.BUY if filled else Side.SELL, order_type=OrderType.LIMIT,
                                status=OrderStatus.FILLED if filled else OrderStatus.CANCELED, quantity=qty,
                                price=at, filled_quantity=qty if filled else D(0),
                                cumulative_value=qty * at if filled else D(0), avg_price=at if filled else None,
                                fee_currency=inst.quote, create_time_ns=created, update_time_ns=created + 10**9)
            orders.append(order)
        self.engine.add_history(orders)
        return orders
