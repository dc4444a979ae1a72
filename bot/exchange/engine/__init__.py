"""The matching engine behind both the paper exchange and the crypto.com simulator.

Pure and synchronous: no I/O, no clock of its own (time comes in as `now_ns`). It holds
instruments, balances (total / locked per asset), orders and order lists (OCO / OTOCO), and
matches them against a reference price stream (ticks or candles). The fill model is written in
docs/paper-fill-model.md and enforced by tests/exchange/test_engine*.py.

CONTRACT (implemented here; the paper exchange and the simulator rely on these names):

    class EngineReject(Exception): code: str, message: str     # crypto.com v1 reason codes

    @dataclass class EngineOrder:                                 # mutable, engine-owned
        order_id, client_oid, symbol, side, order_type, status, quantity, price, trigger_price,
        notional, filled_quantity, cumulative_value, avg_price, fee, fee_currency, list_id,
        contingency_type, reason, create_time_ns, update_time_ns
        (+ leg_role, waiting_for, triggered, post_only, locked_asset, locked; property remaining)
        def to_order(self) -> bot.domain.orders.Order

    class MatchingEngine:
        def __init__(self, instruments: dict[str, Instrument], balances: dict[str, Decimal],
                     *, maker_fee_percent, taker_fee_percent, slippage_percent,
                     max_open_per_symbol=200, max_open_total=1000)
        listeners: list[Callable[[EngineOrder], None]]   # called on every order change
        def last_price(self, symbol) -> Decimal | None
        def set_price(self, symbol, price, now_ns) -> list[EngineOrder]          # changed orders
        def apply_candle(self, symbol, candle: Candle, now_ns) -> list[EngineOrder]
        def place(self, *, symbol, side, order_type, client_oid, quantity=None, price=None,
                  notional=None, trigger_price=None, now_ns, advanced=False, post_only=False) -> EngineOrder
            # advanced=False + trigger type -> EngineReject("140001")
        def cancel(self, *, order_id=None, client_oid=None, now_ns) -> EngineOrder
        def place_oco(self, legs: list[dict], now_ns) -> tuple[str, list[EngineOrder]]
        def place_otoco(self, legs: list[dict], now_ns) -> tuple[str, list[EngineOrder]]
        def cancel_list(self, list_id, now_ns, *, kinds=None) -> list[EngineOrder]   # kinds: {'OCO'}, ...
        def list_orders(self, list_id) -> list[EngineOrder]
        def fill_partially(self, order_id, quantity, *, now_ns, price=None, taker=False) -> EngineOrder
        def get(self, *, order_id=None, client_oid=None) -> EngineOrder | None
        def open_orders(self, symbol=None) -> list[EngineOrder]
        def all_orders(self) -> list[EngineOrder]                                         # open and final
        def history(self, *, start_ns, end_ns, limit, symbol=None, where=None) -> list[EngineOrder]
            # final orders, newest first; `where` filters
        def add_history(self, orders: list[EngineOrder]) -> None                         # seeding for tests/bench
        def balances(self) -> dict[str, tuple[Decimal, Decimal]]                          # asset -> (total, locked)
        def free(self, asset) -> Decimal
        def snapshot(self) -> dict ;  @classmethod restore(cls, data: dict, instruments) -> MatchingEngine

Lists: a leg dict takes the keyword arguments of `place` (symbol, side, order_type, client_oid,
quantity, price, trigger_price). OCO = one LIMIT + one trigger leg, same symbol, side and quantity.
OTOCO = entry (LIMIT/MARKET) + STOP_LOSS|STOP_LIMIT + TAKE_PROFIT|TAKE_PROFIT_LIMIT on the other side.
Cancelling any leg of a list cancels the whole list (as a native OCO does).
"""

from bot.exchange.engine.matching import MatchingEngine
from bot.exchange.engine.order import EngineOrder, EngineReject

__all__ = ["EngineOrder", "EngineReject", "MatchingEngine"]
