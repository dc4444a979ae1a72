"""Order vocabulary shared by every layer: sides, types, statuses, roles, and the order value."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from bot.domain.money import ZERO


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(StrEnum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"
    STOP_LOSS = "STOP_LOSS"
    STOP_LIMIT = "STOP_LIMIT"
    TAKE_PROFIT = "TAKE_PROFIT"
    TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT"

    @property
    def is_trigger(self) -> bool:
        return self not in (OrderType.LIMIT, OrderType.MARKET)


class OrderStatus(StrEnum):
    NEW = "NEW"
    PENDING = "PENDING"      # an untriggered trigger order, or accepted and not yet live
    ACTIVE = "ACTIVE"        # resting; partly filled when filled_quantity > 0
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES

    @property
    def is_open(self) -> bool:
        return not self.is_final


FINAL_STATUSES = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


class OrderRole(StrEnum):
    """Why an order exists, from the bot's point of view."""
    ENTRY = "entry"              # a buy the bot placed from a signal
    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"
    MANUAL = "manual"            # placed by hand on the exchange
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Order:
    """An order as the exchange reports it, normalised. Ids are strings (int64 on the wire)."""
    order_id: str
    client_oid: str | None
    symbol: str
    side: Side
    order_type: OrderType
    status: OrderStatus
    quantity: Decimal
    price: Decimal | None = None            # limit price
    trigger_price: Decimal | None = None    # ref_price of a trigger order
    filled_quantity: Decimal = ZERO
    avg_price: Decimal | None = None
    cumulative_value: Decimal = ZERO
    fee: Decimal = ZERO                     # positive: what was paid
    fee_currency: str | None = None
    list_id: str | None = None              # native OCO / OTOCO list
    reason: str | None = None               # reject/cancel reason code
    created_at: datetime | None = None
    updated_at: datetime | None = None
    create_time_ns: int = 0
    raw: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    @property
    def remaining_quantity(self) -> Decimal:
        return self.quantity - self.filled_quantity

    @property
    def is_partly_filled(self) -> bool:
        return self.filled_quantity > 0 and self.status is not OrderStatus.FILLED


def make_client_oid(*parts: str) -> str:
    """A deterministic client order id (<= 36 chars) from what the order is for.

    The same purpose always gives the same id, so a retry after a crash finds the first
    order (or gets DUPLICATE_CLORDID) instead of placing a second one.
    """
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()
    return f"cb-{digest[:32]}"
