"""The OCO group: a stop-loss and a take-profit protecting one filled buy, and its state machine.

A group's identity and its legs' client_oids are derived from the entry order, so a restart that
lost everything but the exchange's memory still finds the legs it placed (crash safety).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from bot.domain.money import ZERO
from bot.domain.orders import OrderRole, make_client_oid


class GroupState(StrEnum):
    PLACING = "placing"          # persisted before anything is sent; legs may or may not exist yet
    ACTIVE = "active"            # both legs (or the native list) are live
    CLOSED = "closed"            # one leg filled, the other canceled: the position is out
    CANCELED = "canceled"        # both legs canceled with nothing filled (by hand, or replaced)
    BOTH_FILLED = "both_filled"  # an anomaly: sold twice (health reports it)
    FAILED = "failed"            # nothing could be placed; the reason is stored and was reported

    @property
    def is_final(self) -> bool:
        return self in (GroupState.CLOSED, GroupState.CANCELED, GroupState.BOTH_FILLED, GroupState.FAILED)


class GroupEvent(StrEnum):
    PLACED = "placed"                  # the exchange accepted the legs
    PLACEMENT_FAILED = "placement_failed"
    LEG_FILLED = "leg_filled"          # one leg fully filled
    SIBLING_FILLED = "sibling_filled"  # the second leg filled too
    BOTH_CANCELED = "both_canceled"


_TRANSITIONS: dict[tuple[GroupState, GroupEvent], GroupState] = {
    (GroupState.PLACING, GroupEvent.PLACED): GroupState.ACTIVE,
    (GroupState.PLACING, GroupEvent.PLACEMENT_FAILED): GroupState.FAILED,
    # A leg may fill before the bot has recorded the placement (fast market, crash recovery).
    (GroupState.PLACING, GroupEvent.LEG_FILLED): GroupState.CLOSED,
    (GroupState.ACTIVE, GroupEvent.LEG_FILLED): GroupState.CLOSED,
    (GroupState.ACTIVE, GroupEvent.BOTH_CANCELED): GroupState.CANCELED,
    (GroupState.PLACING, GroupEvent.BOTH_CANCELED): GroupState.CANCELED,
    (GroupState.CLOSED, GroupEvent.SIBLING_FILLED): GroupState.BOTH_FILLED,
}


class InvalidTransition(ValueError):
    pass


def next_state(state: GroupState, event: GroupEvent) -> GroupState:
    """The state after `event`; repeating an event that already took effect is harmless."""
    if (state, event) in _TRANSITIONS:
        return _TRANSITIONS[(state, event)]
    if state is GroupState.CLOSED and event is GroupEvent.LEG_FILLED:
        return state
    if state is GroupState.ACTIVE and event is GroupEvent.PLACED:
        return state
    raise InvalidTransition(f"{event.value} is not possible in state {state.value}")


LEG_ROLES = (OrderRole.STOP_LOSS, OrderRole.TAKE_PROFIT)


def group_id_for_entry(mode: str, account: str, entry_order_id: str, tranche: int = 0) -> str:
    """One group per filled buy (per tranche of a buy filled in parts), named after it: the same
    buy and tranche always map to the same group."""
    key = f"oco|{mode}|{account}|{entry_order_id}" + (f"|{tranche}" if tranche else "")
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"g-{digest[:30]}"


def leg_client_oid(group_id: str, role: OrderRole | str, generation: int = 0) -> str:
    """The leg's client_oid from its group and role. A reduced replacement leg (after a partial
    fill of its sibling) gets the next generation, so it never collides with the one it replaces."""
    role_text = OrderRole(role).value
    if generation == 0:
        return make_client_oid(group_id, role_text)
    return make_client_oid(group_id, role_text, str(generation))


def sibling_role(role: OrderRole | str) -> OrderRole:
    role = OrderRole(role)
    if role is OrderRole.STOP_LOSS:
        return OrderRole.TAKE_PROFIT
    if role is OrderRole.TAKE_PROFIT:
        return OrderRole.STOP_LOSS
    raise ValueError(f"{role.value} is not an OCO leg role")


@dataclass(frozen=True)
class ClosedGroupResult:
    quantity: Decimal
    entry_price: Decimal
    exit_price: Decimal
    pnl: Decimal


def closed_pnl(*, quantity: Decimal, entry_price: Decimal, exit_price: Decimal,
               fees_in_quote: Decimal = ZERO) -> ClosedGroupResult:
    """Profit or loss of a long position sold by one leg, in quote currency, fees subtracted."""
    pnl = (exit_price - entry_price) * quantity - fees_in_quote
    return ClosedGroupResult(quantity=quantity, entry_price=entry_price, exit_price=exit_price, pnl=pnl)


def fee_in_quote(fee: Decimal, fee_currency: str | None, *, base: str, quote: str, price: Decimal) -> Decimal:
    """A fee converted to the quote currency when its currency is known; unknown currencies count 0."""
    fee = abs(fee)
    if not fee or fee_currency is None:
        return ZERO
    if fee_currency == quote:
        return fee
    if fee_currency == base:
        return fee * price
    return ZERO


@dataclass(frozen=True)
class Fill:
    """What one order of a round trip did: how much filled, at what average, for what value and fee."""
    filled_quantity: Decimal
    avg_price: Decimal | None
    fee: Decimal = ZERO
    fee_currency: str | None = None
    cumulative_value: Decimal = ZERO


@dataclass(frozen=True)
class RoundTrip:
    """A closed group's figures: what was sold, at what average exit, the fees and the P/L."""
    quantity: Decimal
    entry_price: Decimal
    exit_price: Decimal
    fees: Decimal
    pnl: Decimal


def close_round_trip(*, legs: Sequence[Fill], closing_leg: Fill, entry: Fill | None, entry_price: Decimal,
                     base: str, quote: str) -> RoundTrip:
    """P/L of a group closed by `closing_leg`: every leg's fills count (a partly filled sibling sold
    too), fees in the quote currency, and the buy's fee in proportion to the part sold."""
    sold = sum((leg.filled_quantity for leg in legs), ZERO)
    proceeds = sum((leg.cumulative_value or (leg.filled_quantity * (leg.avg_price or ZERO)) for leg in legs), ZERO)
    exit_price = proceeds / sold if sold else (closing_leg.avg_price or ZERO)
    fees = sum((fee_in_quote(leg.fee, leg.fee_currency, base=base, quote=quote, price=leg.avg_price or exit_price)
                for leg in legs), ZERO)
    quantity = sold or closing_leg.filled_quantity
    if entry is not None and entry.filled_quantity > 0 and entry.fee:
        entry_fee = fee_in_quote(entry.fee, entry.fee_currency, base=base, quote=quote,
                                 price=entry.avg_price or entry_price)
        fees += entry_fee * min(quantity, entry.filled_quantity) / entry.filled_quantity
    result = closed_pnl(quantity=quantity, entry_price=entry_price, exit_price=exit_price, fees_in_quote=fees)
    return RoundTrip(quantity=quantity, entry_price=entry_price, exit_price=exit_price, fees=fees, pnl=result.pnl)
