"""The engine's mutable order record, its reject exception, and their plain-dict form."""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from bot.domain.money import ZERO
from bot.domain.orders import Order, OrderStatus, OrderType, Side

DECIMAL_FIELDS = frozenset({"quantity", "price", "trigger_price", "notional", "filled_quantity",
                            "cumulative_value", "avg_price", "fee", "locked"})
ENUM_FIELDS = {"side": Side, "order_type": OrderType, "status": OrderStatus}


class EngineReject(Exception):
    """The engine refused a request; `code` is a crypto.com v1 reason code (a string) of the registry
    in bot/exchange/codes.py, which says what each becomes (tests/exchange/test_codes.py checks it)."""

    def __init__(self, code: str | int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = str(code)
        self.message = message


@dataclass(eq=False)
class EngineOrder:
    """One order as the engine holds it. Mutable and engine-owned: listeners must copy what they keep
    (`to_order()` gives a frozen snapshot)."""
    order_id: str
    client_oid: str
    symbol: str
    side: Side
    order_type: OrderType
    status: OrderStatus
    quantity: Decimal
    price: Decimal | None = None             # limit price (LIMIT, *_LIMIT after trigger)
    trigger_price: Decimal | None = None     # ref_price of a trigger order
    notional: Decimal | None = None          # MARKET BUY by quote amount
    filled_quantity: Decimal = ZERO
    cumulative_value: Decimal = ZERO
    avg_price: Decimal | None = None
    fee: Decimal = ZERO
    fee_currency: str | None = None
    list_id: str | None = None
    contingency_type: str | None = None      # "OCO" | "OTOCO"
    reason: str | None = None
    create_time_ns: int = 0
    update_time_ns: int = 0
    # Engine bookkeeping (also part of the snapshot).
    leg_role: str | None = None              # OCO: "limit" | "trigger"; OTOCO: "entry" | "stop_loss" | "take_profit"
    waiting_for: str | None = None           # OTOCO leg: the entry's order_id until it is fully filled
    triggered: bool = False
    post_only: bool = False
    locked_asset: str | None = None
    locked: Decimal = ZERO                   # what this order holds locked (an OCO's lock sits on one leg)

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled_quantity

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def is_live(self) -> bool:
        """Open and allowed to trade (an OTOCO exit leg is not, until its entry has fully filled)."""
        return self.status.is_open and self.waiting_for is None

    def to_order(self) -> Order:
        return Order(
            order_id=self.order_id, client_oid=self.client_oid, symbol=self.symbol, side=self.side,
            order_type=self.order_type, status=self.status, quantity=self.quantity, price=self.price,
            trigger_price=self.trigger_price, filled_quantity=self.filled_quantity, avg_price=self.avg_price,
            cumulative_value=self.cumulative_value, fee=self.fee, fee_currency=self.fee_currency,
            list_id=self.list_id, reason=self.reason, create_time_ns=self.create_time_ns,
            raw={"contingency_type": self.contingency_type, "update_time_ns": self.update_time_ns,
                 "leg_role": self.leg_role, "notional": None if self.notional is None else str(self.notional)},
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Decimal):
                value = str(value)
            elif f.name in ENUM_FIELDS:
                value = value.value
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EngineOrder:
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, value in data.items():
            if name not in known:
                continue
            if name in DECIMAL_FIELDS and value is not None:
                value = Decimal(str(value))
            elif name in ENUM_FIELDS:
                value = ENUM_FIELDS[name](value)
            values[name] = value
        return cls(**values)
