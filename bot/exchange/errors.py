"""The project's exchange exceptions: what went wrong in the user's terms, with the exchange code.
Which code becomes which exception is in `bot.exchange.codes`."""

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
