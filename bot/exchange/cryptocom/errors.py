"""crypto.com answers and ccxt exceptions -> the project's exceptions, with no secret in any text.

ccxt maps only some v1 codes and leaves the rest (204, 209, 212, 220, 229, 308, 316, 318, 140001,
...) as a bare `ExchangeError` whose message is the whole response body. The body of an error
answer may carry `original`, the escaped request, which includes the API key; so no ccxt text is
ever copied into our exceptions: the reason is ours, the code is the exchange's.
"""

from __future__ import annotations

from collections.abc import Iterable

import ccxt.async_support as ccxt

from bot.exchange.errors import (
    AuthenticationFailed,
    ExchangeError,
    ExchangeUnavailable,
    InsufficientFunds,
    InvalidOrder,
    OrderNotFound,
    OrderRejectedError,
    RateLimited,
    UnknownInstrument,
    error_for_code,
)

MASK = "********"


class LiveTradingDisabled(OrderRejectedError):
    """The live adapter was built without live_trading=True: no private write leaves the process."""


# Codes outside the shared table that this adapter meets on the real exchange. The ambiguous ones
# (the exchange itself timed out or failed inside) leave a write's outcome unknown, so they become
# ExchangeUnavailable: the caller must look the order up by client_oid before sending it again.
_ADAPTER_CODES: dict[str, tuple[type[ExchangeError], str]] = {
    "40801": (ExchangeUnavailable, "the exchange timed out on the request; its outcome is unknown"),
    "50001": (ExchangeUnavailable, "the exchange had an internal error; the outcome is unknown"),
    "10001": (ExchangeUnavailable, "the exchange reported a system error; the outcome is unknown"),
    "9010001": (ExchangeUnavailable, "the exchange is under maintenance"),
    "10006": (RateLimited, "too many requests; slowing down"),
    "10002": (AuthenticationFailed, "the exchange refused the API key or signature"),
    "10003": (AuthenticationFailed, "this IP address is not allowed for the API key"),
    "10005": (AuthenticationFailed, "the API key's tier does not allow this request"),
    "10007": (AuthenticationFailed, "the request time is off; check the system clock"),
    "40104": (AuthenticationFailed, "the API key's tier does not allow this request"),
    "202": (OrderRejectedError, "the account is suspended"),
    "207": (OrderRejectedError, "the exchange has no mark price for this instrument right now"),
    "208": (OrderRejectedError, "this instrument is not tradable right now"),
    "219": (InvalidOrder, "invalid execution instruction"),
    "222": (OrderRejectedError, "the mark price is stale; try again shortly"),
    "224": (OrderRejectedError, "the matching engine rejected the order"),
    "230": (InvalidOrder, "invalid trigger price type"),
    "307": (OrderNotFound, "the order is not in a state that allows this"),
    "309": (OrderRejectedError, "the market is not open"),
    "325": (OrderRejectedError, "the daily volume limit is reached"),
    "1110": (InvalidOrder, "a reduce-only order would increase the position"),
    "20002": (InsufficientFunds, "not enough free balance"),
    "30003": (UnknownInstrument, "the exchange does not know this instrument"),
    "40001": (InvalidOrder, "the exchange found the request malformed"),
    "40003": (InvalidOrder, "the exchange found the request invalid"),
    "40004": (InvalidOrder, "a required field is missing or invalid"),
    "43003": (InvalidOrder, "fill-or-kill order could not fill completely and was cancelled"),
    "43004": (InvalidOrder, "immediate-or-cancel order did not fill and was cancelled"),
    "43012": (OrderRejectedError, "cancelled by self-trade prevention"),
}

# Codes that mean "the thing asked about does not exist (any more)".
NOT_FOUND_CODES = frozenset({"212", "316", "40401"})
METHOD_NOT_FOUND_CODES = frozenset({"40002", "10008"})


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def _safe_name(message: str | None) -> str | None:
    """The exchange's short error name (e.g. INSUFFICIENT_AVAILABLE_BALANCE), never free text."""
    if not message:
        return None
    name = str(message).strip()[:80]
    return name if name.replace("_", "").replace(" ", "").isalnum() else None


def error_for_answer(code: object, message: str | None, method: str) -> ExchangeError:
    """The project exception for a non-zero v1 `code` on `method`."""
    key = str(code)
    name = _safe_name(message)
    shared = error_for_code(key, name)
    if type(shared) is not ExchangeError:
        return shared
    if key in _ADAPTER_CODES:
        cls, reason = _ADAPTER_CODES[key]
        return cls(f"{reason} ({name})" if name else reason, code=key)
    if key in METHOD_NOT_FOUND_CODES:
        return ExchangeError(f"the exchange does not offer {method}", code=key)
    return ExchangeError(f"the exchange refused {method}" + (f" ({name})" if name else ""), code=key)


def error_for_http(status: int, method: str) -> ExchangeError:
    """An answer without a v1 code: 5xx / 408 leave the outcome unknown, 429 is a rate limit."""
    if status == 429:
        return RateLimited("too many requests; slowing down", code="42901")
    if status >= 500 or status == 408:
        return ExchangeUnavailable(f"the exchange answered HTTP {status} to {method}; the outcome is unknown")
    if status in (401, 403):
        return AuthenticationFailed(f"the exchange refused the credentials (HTTP {status})")
    return ExchangeError(f"the exchange answered HTTP {status} to {method} without a reason code")


def error_for_ccxt(exc: BaseException, method: str) -> ExchangeError:
    """ccxt's typed exceptions -> ours. Order matters: subclasses before their bases."""
    kind = type(exc).__name__
    if isinstance(exc, (ccxt.RateLimitExceeded, ccxt.DDoSProtection)):
        return RateLimited("too many requests; slowing down", code="42901")
    if isinstance(exc, ccxt.InvalidNonce):
        return AuthenticationFailed("the request time is off; check the system clock")
    if isinstance(exc, ccxt.RequestTimeout):
        return ExchangeUnavailable(f"no answer in time from the exchange to {method}; the outcome is unknown")
    if isinstance(exc, (ccxt.NetworkError, ccxt.BadResponse)):
        return ExchangeUnavailable(f"the connection to the exchange failed during {method} ({kind}); "
                                   f"the outcome is unknown")
    if isinstance(exc, ccxt.AuthenticationError):
        return AuthenticationFailed("the exchange refused the API key or signature (or no key is set)")
    if isinstance(exc, ccxt.InsufficientFunds):
        return InsufficientFunds("not enough free balance")
    if isinstance(exc, ccxt.OrderNotFound):
        return OrderNotFound("no such order")
    if isinstance(exc, ccxt.InvalidOrder):
        return InvalidOrder("the exchange refused the order as invalid")
    if isinstance(exc, ccxt.BadSymbol):
        return UnknownInstrument("the exchange does not know this instrument")
    if isinstance(exc, ccxt.OperationFailed):
        return ExchangeUnavailable(f"the request {method} failed ({kind}); the outcome is unknown")
    return ExchangeError(f"the exchange refused {method} ({kind})")
