"""Actions that touch the exchange, previewed first and confirmed by their owner within 5 minutes.

Plain data shared by every view (the bot's buttons and the Mini App's API): what an action will do,
exactly (quantities and prices already rounded to the instrument), and how a confirmation ended.
Refusals and failures are a key plus values, worded in each reader's language at the edge.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

ACTION_TTL = timedelta(minutes=5)


def N_(text: str) -> str:
    """Marks a template for extraction by pybabel; translated where it is shown."""
    return text


class ActionKind(StrEnum):
    PROTECT = "protect"
    CANCEL_ORDER = "cancel_order"
    CANCEL_GROUP = "cancel_group"
    # A group whose take-profit the exchange refused (its stop-loss alone stands): the lone stop is
    # canceled and the full protection placed in its place.
    COMPLETE = "complete_protection"


class ActionState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELED = "canceled"      # the owner pressed Cancel on the preview


class Outcome(StrEnum):
    DONE = "done"                    # this confirmation did it
    UNCONFIRMED = "unconfirmed"      # sent, but the exchange did not answer: the next sync finds out
    ALREADY_DONE = "already_done"    # a repeated confirmation: nothing was sent again
    IN_PROGRESS = "in_progress"      # another press (or device) is running it right now
    FAILED = "failed"
    EXPIRED = "expired"
    DISMISSED = "dismissed"          # canceled by its owner
    FOREIGN = "foreign"              # someone else's action: nothing is done, nothing is shown
    NOT_FOUND = "not_found"


# Why an action cannot be previewed or did not work (protection's own reasons are in bot.domain.reasons).
TEMPLATES: dict[str, str] = {
    "not_allowed": N_("this bot is private"),
    "nothing_unprotected": N_("no {asset} is unprotected any more"),
    "no_market": N_("the exchange lists no market to sell {asset} on"),
    "no_price": N_("there is no price for {symbol} to put the stop-loss and take-profit around"),
    "order_not_open": N_("order {order} is not open any more"),
    "group_not_open": N_("this protection has no open order any more"),
    "cancel_refused": N_("the exchange refused the cancel: {exchange}"),
    "already_complete": N_("this protection is not a lone stop-loss any more: nothing to complete"),
    "price_outside": N_("the price, {market}, is not between the stop-loss {stop} and the take-profit {take} "
                        "any more: cancel the stop-loss from /orders and protect anew"),
    "stop_loss_sold": N_("the stop-loss sold {quantity} {asset} meanwhile: nothing was placed; /orders shows "
                         "what is left"),
    "stop_loss_still_open": N_("the stop-loss still reads as open after its cancel: nothing was placed; if /orders "
                               "shows it gone in a moment, {asset} is unprotected and Protect places a full "
                               "protection"),
    "completion_cancel_unknown": N_("the exchange did not answer the stop-loss's cancel ({exchange}): nothing was "
                                    "placed; the stop-loss may still stand, or {asset} may be unprotected: /orders "
                                    "shows which after the next sync"),
    "completion_not_placed": N_("the lone stop-loss was canceled, but the new protection was not placed "
                                "({why}): {unprotected} is UNPROTECTED now; /orders offers Protect"),
    "take_profit_refused_again": N_("the stop-loss stands again at {stop}, but the exchange refused the "
                                    "take-profit again ({exchange}): nothing takes the profit yet"),
    "exchange_unavailable": N_("the exchange did not answer ({exchange}); nothing is assumed: the next sync "
                               "checks what happened"),
}


class ActionRefused(Exception):
    """A preview that cannot be made (nothing to do, or not allowed); worded by its key."""

    def __init__(self, key: str, **args: object) -> None:
        super().__init__(key)
        self.key = key
        self.arguments = tuple((name, str(value)) for name, value in args.items())

    @property
    def values(self) -> dict[str, str]:
        return dict(self.arguments)


def new_action_id() -> str:
    """Unguessable, short enough to ride in a button (64 bytes) and to become a group id / client_oid seed."""
    return "a-" + secrets.token_hex(10)


@dataclass(frozen=True)
class ProtectDetails:
    symbol: str
    base: str
    quote: str
    quantity: Decimal            # what will be placed, floored to the quantity step
    unprotected: Decimal         # what is unprotected now (quantity may be less: only the free part)
    stop_loss: Decimal           # trigger, rounded down to the tick
    take_profit: Decimal         # rounded up to the tick
    stop_loss_percent: Decimal
    take_profit_percent: Decimal
    reference_price: Decimal
    reference: str               # "entry": the last buy's price; "market": the current price
    native_oco: bool             # one native OCO; else two legs the bot links
    shortfall_key: str | None = None
    shortfall_args: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class OrderToCancel:
    order_id: str
    client_oid: str | None
    side: str
    order_type: str
    role: str
    quantity: Decimal            # what is still open
    price: Decimal | None
    trigger_price: Decimal | None


@dataclass(frozen=True)
class CancelDetails:
    symbol: str
    base: str
    quote: str
    orders: tuple[OrderToCancel, ...]
    group_id: str | None = None
    native_list_id: str | None = None
    # What canceling leaves behind: "" nothing special, "unprotected" the group's position loses its
    # protection, "one_leg" a group keeps only its other leg.
    leaves: str = ""
    group_quantity: Decimal | None = None


@dataclass(frozen=True)
class CompleteDetails:
    """Replace a lone stop-loss (its take-profit refused) by a full protection at the same prices."""
    symbol: str
    base: str
    quote: str
    group_id: str                # the group standing as a stop-loss only
    stop_loss_client_oid: str    # its stop-loss, canceled first
    stop_loss_order_id: str
    quantity: Decimal            # what the stop-loss covers, and what the new protection will
    stop_loss: Decimal           # the same trigger as the lone stop-loss
    take_profit: Decimal         # the take-profit that was refused
    entry_price: Decimal
    market_price: Decimal
    native_oco: bool             # whether the exchange took a native OCO the last time it was asked


@dataclass(frozen=True)
class ActionPreview:
    action_id: str
    kind: ActionKind
    mode: str                    # "paper" | "live"
    user_id: int
    expires_at: datetime
    protect: ProtectDetails | None = None
    cancel: CancelDetails | None = None
    complete: CompleteDetails | None = None

    def payload(self) -> dict[str, Any]:
        details = self.protect or self.cancel or self.complete
        return {"details": _to_json(details)}

    @classmethod
    def from_payload(cls, *, action_id: str, kind: str, mode: str, user_id: int, expires_at: datetime,
                     payload: dict[str, Any]) -> ActionPreview:
        data = payload.get("details") or {}
        action_kind = ActionKind(kind)
        if action_kind is ActionKind.PROTECT:
            return cls(action_id, action_kind, mode, user_id, expires_at, protect=_protect_from(data))
        if action_kind is ActionKind.COMPLETE:
            return cls(action_id, action_kind, mode, user_id, expires_at, complete=_complete_from(data))
        return cls(action_id, action_kind, mode, user_id, expires_at, cancel=_cancel_from(data))


@dataclass(frozen=True)
class ActionResult:
    outcome: Outcome
    action: ActionPreview | None = None
    reason_key: str | None = None
    reason_args: tuple[tuple[str, str], ...] = ()
    native_oco: bool | None = None           # protect: what was actually used
    group_id: str | None = None
    canceled: tuple[str, ...] = field(default=())   # cancels: the order ids gone now
    filled: tuple[str, ...] = field(default=())     # cancels: ids that had filled before the cancel came

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.DONE, Outcome.ALREADY_DONE)

    def as_json(self) -> dict[str, Any]:
        return {"outcome": self.outcome.value, "reason_key": self.reason_key, "reason_args": dict(self.reason_args),
                "native_oco": self.native_oco, "group_id": self.group_id, "canceled": list(self.canceled),
                "filled": list(self.filled)}


def result_from_json(data: dict[str, Any], action: ActionPreview | None, outcome: Outcome) -> ActionResult:
    """A stored result, read back for a repeated confirmation (it reports, it does not redo)."""
    return ActionResult(outcome=outcome, action=action, reason_key=data.get("reason_key"),
                        reason_args=tuple((k, str(v)) for k, v in (data.get("reason_args") or {}).items()),
                        native_oco=data.get("native_oco"), group_id=data.get("group_id"),
                        canceled=tuple(data.get("canceled") or ()), filled=tuple(data.get("filled") or ()))


def _to_json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | list):
        return [_to_json(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {name: _to_json(getattr(value, name)) for name in value.__dataclass_fields__}
    return value


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _protect_from(data: dict[str, Any]) -> ProtectDetails:
    def d(name: str) -> Decimal:
        return Decimal(str(data[name]))

    return ProtectDetails(
        symbol=data["symbol"], base=data["base"], quote=data["quote"], quantity=d("quantity"),
        unprotected=d("unprotected"), stop_loss=d("stop_loss"), take_profit=d("take_profit"),
        stop_loss_percent=d("stop_loss_percent"), take_profit_percent=d("take_profit_percent"),
        reference_price=d("reference_price"), reference=data["reference"], native_oco=bool(data["native_oco"]),
        shortfall_key=data.get("shortfall_key"),
        shortfall_args=tuple((str(k), str(v)) for k, v in data.get("shortfall_args") or ()))


def _complete_from(data: dict[str, Any]) -> CompleteDetails:
    def d(name: str) -> Decimal:
        return Decimal(str(data[name]))

    return CompleteDetails(
        symbol=data["symbol"], base=data["base"], quote=data["quote"], group_id=data["group_id"],
        stop_loss_client_oid=data["stop_loss_client_oid"], stop_loss_order_id=data["stop_loss_order_id"],
        quantity=d("quantity"), stop_loss=d("stop_loss"), take_profit=d("take_profit"),
        entry_price=d("entry_price"), market_price=d("market_price"), native_oco=bool(data["native_oco"]))


def _cancel_from(data: dict[str, Any]) -> CancelDetails:
    orders = tuple(OrderToCancel(
        order_id=o["order_id"], client_oid=o.get("client_oid"), side=o["side"], order_type=o["order_type"],
        role=o["role"], quantity=Decimal(str(o["quantity"])), price=_dec(o.get("price")),
        trigger_price=_dec(o.get("trigger_price"))) for o in data.get("orders") or ())
    return CancelDetails(symbol=data["symbol"], base=data["base"], quote=data["quote"], orders=orders,
                         group_id=data.get("group_id"), native_list_id=data.get("native_list_id"),
                         leaves=data.get("leaves") or "", group_quantity=_dec(data.get("group_quantity")))
