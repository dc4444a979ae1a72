"""crypto.com answers and ccxt exceptions -> the project's exceptions, with no secret in any text.

ccxt maps only some v1 codes and leaves the rest (204, 209, 212, 220, 229, 308, 316, 318, 140001,
...) as a bare `ExchangeError` whose message is the whole response body. The body of an error
answer may carry `original`, the escaped request, which includes the API key; so no ccxt text is
ever copied into our exceptions: the reason is ours, the code is the exchange's.
"""

from __future__ import annotations

from collections.abc import Iterable

import ccxt.async_support as ccxt

from bot.exchange import codes
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
)

MASK = "********"


class LiveTradingDisabled(OrderRejectedError):
    """The live adapter was built without live_trading=True: no private write leaves the process."""


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
    """The project exception for a non-zero v1 `code` on `method` (the table is bot.exchange.codes)."""
    return codes.error_for_answer(code, _safe_name(message), method)


def error_for_http(status: int, method: str) -> ExchangeError:
    """An answer that is not the exchange's: no v1 envelope with a code (a truncated or empty body,
    an HTML page from a proxy or load balancer, whatever the status). Every refusal of the exchange
    carries a code, so this is no refusal: the request may have been processed behind the proxy,
    and the outcome is unknown (a write is looked up by client_oid before anything else). Only 429
    says for sure that nothing was processed."""
    if status == 429:
        return RateLimited("too many requests; slowing down", code="42901")
    return ExchangeUnavailable(f"the answer to {method} (HTTP {status}) was not the exchange's; "
                               f"the outcome is unknown")


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
    if type(exc) is ccxt.ExchangeError:
        # Every answer of the exchange goes through our own hook (`_AnswerError`), so a bare ccxt
        # ExchangeError never is one: ccxt raises it for transport failures such as a connection
        # reset in the middle of the body (aiohttp's ClientPayloadError).
        return ExchangeUnavailable(f"the answer to {method} broke off ({kind}); the outcome is unknown")
    return ExchangeError(f"the exchange refused {method} ({kind})")
