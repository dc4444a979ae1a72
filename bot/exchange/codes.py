"""The one registry of crypto.com Exchange v1 reason codes.

For each code: the exchange's name (the `message` of its answer), the HTTP status its REST answer
carries, the project exception it becomes, our English reason, and the gettext message id the
Telegram notifier shows readers (None: readers see the reason as it is). Used by the live adapter
(its answers -> exceptions), the paper exchange and the adapter's own pre-send checks
(`error_for_code`), the matching engine (`EngineReject` codes), the simulator (answer name and
HTTP status) and the notifier (wording per language).

`shared` marks the codes mapped alike everywhere (`error_for_code`): the rest become their
exception only when the live exchange answers them, and a plain ExchangeError elsewhere.
A name is None where the simulator does not model the code (it then answers "ERROR").
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.exchange.errors import (
    AuthenticationFailed,
    DuplicateClientOrderId,
    ExchangeError,
    ExchangeUnavailable,
    InsufficientFunds,
    InvalidOrder,
    OrderNotFound,
    OrderRejectedError,
    RateLimited,
    TooManyOpenOrders,
    TriggerEndpointRequired,
    UnknownInstrument,
)


def N_(text: str) -> str:
    """Marks a message id for extraction by pybabel (-k N_); translated by the notifier."""
    return text


@dataclass(frozen=True)
class V1Code:
    code: str
    name: str | None
    http_status: int
    error: type[ExchangeError] | None      # None: no class of its own (a generic refusal)
    reason: str
    message_key: str | None = None
    shared: bool = False


def _codes(*entries: V1Code) -> dict[str, V1Code]:
    return {e.code: e for e in entries}


C = V1Code
CODES: dict[str, V1Code] = _codes(
    # --- mapped alike by the live adapter, the paper exchange and the simulator -----------------
    C("204", "DUPLICATE_CLORDID", 400, DuplicateClientOrderId, "an order with this client_oid already exists",
      N_("an order with this client_oid already exists"), shared=True),
    C("209", "INVALID_INSTRUMENT", 400, UnknownInstrument, "the exchange does not know this instrument",
      shared=True),
    C("212", "INVALID_ORDERID", 500, OrderNotFound, "no order with this id", N_("no order with this id"),
      shared=True),
    C("213", "INVALID_ORDERQTY", 400, InvalidOrder, "the quantity is not valid for this instrument (size or step)",
      N_("the quantity is not valid for this instrument"), shared=True),
    C("218", "INVALID_ORDTYPE", 400, InvalidOrder, "order type not accepted here", shared=True),
    C("220", "INVALID_SIDE", 400, InvalidOrder, "invalid side for this order", N_("invalid side for this order"),
      shared=True),
    C("221", "INVALID_TIF", 400, InvalidOrder, "invalid time in force", shared=True),
    # Any invalid trigger price: the wrong side of the market, beyond 200 % of the mark price, ...
    C("229", "INVALID_REF_PRICE", 400, InvalidOrder,
      "the trigger price is not valid (on the wrong side of the market, or too far from it)",
      N_("the trigger price is not valid (on the wrong side of the market, or too far from it)"), shared=True),
    C("306", "INSUFFICIENT_AVAILABLE_BALANCE", 500, InsufficientFunds, "not enough free balance",
      N_("not enough free balance"), shared=True),
    C("308", "INVALID_PRICE", 400, InvalidOrder, "the price is not valid for this instrument (tick or format)",
      N_("the price is not valid for this instrument"), shared=True),
    C("314", "EXCEEDS_MAX_ORDER_SIZE", 400, InvalidOrder, "the order is larger than the exchange allows",
      shared=True),
    C("315", "FAR_AWAY_LIMIT_PRICE", 400, InvalidOrder, "the limit price is too far from the market", shared=True),
    C("316", "NO_ACTIVE_ORDER", 500, OrderNotFound, "the order is no longer open",
      N_("the order is no longer open"), shared=True),
    C("318", "EXCEEDS_MAX_ALLOWED_ORDERS", 400, TooManyOpenOrders, "too many open orders on this account",
      N_("too many open orders on this account"), shared=True),
    C("415", "BELOW_MIN_ORDER_SIZE", 500, InvalidOrder, "the order is below the exchange's minimum size",
      N_("below the exchange's minimum order size"), shared=True),
    C("40101", "UNAUTHORIZED", 401, AuthenticationFailed, "the exchange refused the API key or signature",
      shared=True),
    C("40102", "INVALID_NONCE", 400, AuthenticationFailed, "the request time is off; check the system clock",
      shared=True),
    C("40103", None, 401, AuthenticationFailed, "this IP address is not allowed for the API key", shared=True),
    C("40401", "NOT_FOUND", 200, OrderNotFound, "no such order", shared=True),
    C("42901", "TOO_MANY_REQUESTS", 429, RateLimited, "too many requests; slowing down",
      N_("too many requests; slowing down"), shared=True),
    # A post-only order that would trade is cancelled (also: POST_ONLY without GOOD_TILL_CANCEL).
    C("43005", "POST_ONLY_REJ", 500, InvalidOrder,
      "the post-only order would have traded at once, so the exchange cancelled it",
      N_("the post-only order would have traded at once, so the exchange cancelled it"), shared=True),
    C("140001", "TRIGGER_ORDER_NOT_ALLOWED", 500, TriggerEndpointRequired,
      "trigger orders must go to the advanced order endpoint", shared=True),
    # --- met on the real exchange. The ambiguous ones (the exchange timed out or failed inside) leave
    # a write's outcome unknown: ExchangeUnavailable, so the caller looks the order up by client_oid
    # before sending it again.
    C("40801", None, 408, ExchangeUnavailable, "the exchange timed out on the request; its outcome is unknown"),
    C("50001", "ERR_INTERNAL", 400, ExchangeUnavailable, "the exchange had an internal error; the outcome is unknown"),
    C("10001", None, 400, ExchangeUnavailable, "the exchange reported a system error; the outcome is unknown"),
    C("9010001", None, 400, ExchangeUnavailable, "the exchange is under maintenance"),
    C("10006", None, 400, RateLimited, "too many requests; slowing down"),
    C("10002", None, 400, AuthenticationFailed, "the exchange refused the API key or signature"),
    C("10003", None, 400, AuthenticationFailed, "this IP address is not allowed for the API key"),
    C("10005", None, 400, AuthenticationFailed, "the API key's tier does not allow this request"),
    C("10007", None, 400, AuthenticationFailed, "the request time is off; check the system clock"),
    C("40104", None, 400, AuthenticationFailed, "the API key's tier does not allow this request"),
    C("202", None, 400, OrderRejectedError, "the account is suspended"),
    C("207", "NO_MARK_PRICE", 400, OrderRejectedError, "the exchange has no mark price for this instrument right now"),
    C("208", None, 400, OrderRejectedError, "this instrument is not tradable right now"),
    C("219", None, 400, InvalidOrder, "invalid execution instruction"),
    C("222", None, 400, OrderRejectedError, "the mark price is stale; try again shortly"),
    C("224", None, 400, OrderRejectedError, "the matching engine rejected the order"),
    C("230", "INVALID_REF_PRICE_TYPE", 400, InvalidOrder, "invalid trigger price type"),
    C("307", None, 400, OrderNotFound, "the order is not in a state that allows this"),
    C("309", None, 400, OrderRejectedError, "the market is not open"),
    C("325", None, 400, OrderRejectedError, "the daily volume limit is reached"),
    C("1110", None, 400, InvalidOrder, "a reduce-only order would increase the position"),
    C("20002", None, 400, InsufficientFunds, "not enough free balance"),
    C("30003", None, 400, UnknownInstrument, "the exchange does not know this instrument"),
    C("40001", "BAD_REQUEST", 400, InvalidOrder, "the exchange found the request malformed"),
    C("40003", "INVALID_REQUEST", 400, InvalidOrder, "the exchange found the request invalid"),
    C("40004", "MISSING_OR_INVALID_ARGUMENT", 400, InvalidOrder, "a required field is missing or invalid"),
    C("43003", "FILL_OR_KILL", 500, InvalidOrder, "fill-or-kill order could not fill completely and was cancelled"),
    C("43004", "IMMEDIATE_OR_CANCEL", 500, InvalidOrder, "immediate-or-cancel order did not fill and was cancelled"),
    C("43012", None, 200, OrderRejectedError, "cancelled by self-trade prevention"),
    # --- no exception of their own ----------------------------------------------------------------
    C("40002", "METHOD_NOT_FOUND", 400, None, "the exchange does not offer this method"),
    C("10008", None, 400, None, "the exchange does not offer this method"),
    C("40005", "INVALID_DATE", 400, None, "the date range is not valid"),
)
del C

# "The exchange does not offer this method here" (the old and the v1 code).
METHOD_NOT_FOUND_CODES = frozenset({"40002", "10008"})


def name_of(code: str) -> str:
    """The exchange's name for a code, as its answers carry it ("ERROR" when not modelled)."""
    entry = CODES.get(code)
    return entry.name if entry is not None and entry.name else "ERROR"


def http_status(code: str) -> int:
    """The HTTP status of a REST answer with this code (crypto.com answers some refusals with 500)."""
    if code == "0":
        return 200
    entry = CODES.get(code)
    return entry.http_status if entry is not None else 400


def message_key(code: str) -> str | None:
    """The gettext message id the notifier words this code with, or None."""
    entry = CODES.get(code)
    return entry.message_key if entry is not None else None


def error_for_code(code: object, message: str | None = None) -> ExchangeError:
    """The project exception for a shared reason code (any other code -> ExchangeError)."""
    key = str(code)
    entry = CODES.get(key)
    if entry is None or not entry.shared or entry.error is None:
        return ExchangeError(message or "the exchange refused the request", code=key)
    return entry.error(f"{entry.reason} ({message})" if message else entry.reason, code=key)


def error_for_answer(code: object, name: str | None, method: str) -> ExchangeError:
    """The project exception for a non-zero v1 `code` the live exchange answered to `method`
    (`name` is the exchange's short error name, already checked to hold no free text)."""
    key = str(code)
    entry = CODES.get(key)
    if entry is not None and entry.error is not None:
        return entry.error(f"{entry.reason} ({name})" if name else entry.reason, code=key)
    if key in METHOD_NOT_FOUND_CODES:
        return ExchangeError(f"the exchange does not offer {method}", code=key)
    return ExchangeError(f"the exchange refused {method}" + (f" ({name})" if name else ""), code=key)
