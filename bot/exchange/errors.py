"""The project's exchange exceptions: what went wrong in the user's terms, with the exchange code."""

from __future__ import annotations


class ExchangeError(Exception):
    """Base class. `code` is the exchange's reason code when there is one."""

    def __init__(self, reason: str, *, code: str | None = None) -> None:
        super().__init__(reason if code is None else f"{reason} (code {code})")
        self.reason = reason
        self.code = code


class AuthenticationFailed(ExchangeError):
    """Wrong key, signature or nonce (40101, 40102, 40103)."""


class RateLimited(ExchangeError):
    """42901: too many requests; retry after a pause."""


class ExchangeUnavailable(ExchangeError):
    """The exchange did not answer usefully (timeout, 5xx, dropped connection) and the outcome
    of a write is unknown: look the order up by client_oid before ever sending it again."""


class OrderRejectedError(ExchangeError):
    """The exchange refused the order outright; nothing was placed."""


class InvalidOrder(OrderRejectedError):
    """Bad quantity/price/side/type/trigger (213, 220, 229, 308, 314, 315, 415, ...)."""


class InsufficientFunds(OrderRejectedError):
    """306: not enough free balance."""


class DuplicateClientOrderId(OrderRejectedError):
    """204: an order with this client_oid exists already."""


class UnknownInstrument(OrderRejectedError):
    """209: no such instrument."""


class TooManyOpenOrders(OrderRejectedError):
    """318: the exchange's open-order cap."""


class OrderNotFound(ExchangeError):
    """212 / 316 / 40401: no such order, or it is no longer open."""


class TriggerEndpointRequired(OrderRejectedError):
    """140001: a trigger type was sent to private/create-order (it belongs to private/advanced)."""


class NativeOcoUnavailable(ExchangeError):
    """The exchange (or this adapter) cannot place a native OCO; use two linked orders."""


# crypto.com v1 reason codes -> project exceptions. Shared by the live adapter (codes from the
# exchange), the paper exchange and the simulator (codes from the engine), so all three fail alike.
_CODE_TO_ERROR: dict[str, tuple[type[ExchangeError], str]] = {
    "204": (DuplicateClientOrderId, "an order with this client_oid already exists"),
    "209": (UnknownInstrument, "the exchange does not know this instrument"),
    "212": (OrderNotFound, "no order with this id"),
    "213": (InvalidOrder, "the quantity is not valid for this instrument (size or step)"),
    "218": (InvalidOrder, "order type not accepted here"),
    "220": (InvalidOrder, "invalid side for this order"),
    "221": (InvalidOrder, "invalid time in force"),
    "229": (InvalidOrder, "the trigger price is on the wrong side of the market"),
    "306": (InsufficientFunds, "not enough free balance"),
    "308": (InvalidOrder, "the price is not valid for this instrument (tick or format)"),
    "314": (InvalidOrder, "the order is larger than the exchange allows"),
    "315": (InvalidOrder, "the limit price is too far from the market"),
    "316": (OrderNotFound, "the order is no longer open"),
    "318": (TooManyOpenOrders, "too many open orders on this account"),
    "415": (InvalidOrder, "the order is below the exchange's minimum size"),
    "40101": (AuthenticationFailed, "the exchange refused the API key or signature"),
    "40102": (AuthenticationFailed, "the request time is off; check the system clock"),
    "40103": (AuthenticationFailed, "this IP address is not allowed for the API key"),
    "40401": (OrderNotFound, "no such order"),
    "42901": (RateLimited, "too many requests; slowing down"),
    "43005": (InvalidOrder, "post-only order would have traded at once"),
    "140001": (TriggerEndpointRequired, "trigger orders must go to the advanced order endpoint"),
}


def error_for_code(code: object, message: str | None = None) -> ExchangeError:
    """The project exception for an exchange reason code (unknown codes -> ExchangeError)."""
    key = str(code)
    cls, reason = _CODE_TO_ERROR.get(key, (ExchangeError, message or "the exchange refused the request"))
    if message and key in _CODE_TO_ERROR:
        reason = f"{reason} ({message})"
    return cls(reason, code=key)
