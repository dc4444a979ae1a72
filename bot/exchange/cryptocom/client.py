"""The signed v1 transport: ccxt's async crypto.com client for signing and HTTP, our own limiter per
method (the exchange's table, bot/exchange/v1_limits.py), our error mapping, 42901 backoff, and
the live-trading guard on every private write.

Everything goes through ccxt's generic signed `request()` rather than its unified methods:
those parse numbers into floats (money is Decimal here) and still send trigger orders and OCO to
the retired paths (docs/cryptocom-exchange-v1.md, sections 5 and 11).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt.async_support as ccxt

from bot.exchange.cryptocom.errors import (
    LiveTradingDisabled,
    error_for_answer,
    error_for_ccxt,
    error_for_http,
    scrub,
)
from bot.exchange.errors import ExchangeError, ExchangeUnavailable, RateLimited
from bot.exchange.v1_limits import HISTORY, Limit, limit_for

log = logging.getLogger(__name__)

# Private methods that only read. Every other private method is a write and needs live trading:
# an allow-list, so a method added later is refused until someone decides it is harmless.
READ_METHODS = frozenset({
    "private/user-balance", "private/get-open-orders", "private/get-order-detail", "private/get-order-history",
    "private/get-trades", "private/get-currency-networks", "private/advanced/get-open-orders",
    "private/advanced/get-order-detail", "private/advanced/get-order-history",
    "private/advanced/get-order-list-detail",
})


@dataclass(frozen=True)
class TransportOptions:
    timeout_seconds: float = 10.0
    rate_limit_retries: int = 5
    rate_limit_backoff_seconds: float = 0.25     # doubles per retry
    history_interval_seconds: float = 1.0        # the window of the 1 request/s methods (tests shorten it)
    read_retries: int = 2                        # a read that met a 5xx or a dropped connection


class _MaskedLogger:
    """ccxt logs request bodies at DEBUG, and those carry the API key: mask before logging."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = [s for s in secrets if s]
        self._log = logging.getLogger(f"{__name__}.ccxt")

    def _emit(self, level: int, message: Any, *args: Any) -> None:
        if not self._log.isEnabledFor(level):
            return
        text = str(message) % args if args else str(message)
        self._log.log(level, "%s", scrub(text, self._secrets))

    def debug(self, message: Any, *args: Any, **_: Any) -> None:
        self._emit(logging.DEBUG, message, *args)

    def info(self, message: Any, *args: Any, **_: Any) -> None:
        self._emit(logging.INFO, message, *args)

    def warning(self, message: Any, *args: Any, **_: Any) -> None:
        self._emit(logging.WARNING, message, *args)

    def error(self, message: Any, *args: Any, **_: Any) -> None:
        self._emit(logging.ERROR, message, *args)

    def exception(self, message: Any, *args: Any, **_: Any) -> None:
        self._emit(logging.ERROR, message, *args)


class _AnswerError(Exception):
    """Raised from inside ccxt's response handling; carries what we need, never the body."""

    def __init__(self, http_status: int, code: str | None, message: str | None) -> None:
        super().__init__(f"HTTP {http_status}, code {code}")
        self.http_status = http_status
        self.code = code
        self.message = message


class _CcxtClient(ccxt.cryptocom):
    """ccxt's client with exact numbers and an error hook that keeps the HTTP status."""

    def on_json_response(self, text: str) -> Any:
        # Decimal, not float: quantities and prices must survive parsing exactly.
        return json.loads(text, parse_float=Decimal)

    def handle_errors(self, code: int, reason: str, url: str, method: str, headers: Any, body: str,
                      response: Any, request_headers: Any, request_body: Any) -> None:
        if isinstance(response, dict) and "code" in response:
            answer = str(response.get("code"))
            if answer != "0":
                message = response.get("message")
                raise _AnswerError(code, answer, str(message) if message is not None else None)
            return None
        # No v1 envelope (a cut-off body, a proxy's HTML or JSON page): not the exchange's answer.
        raise _AnswerError(code, None, None)

    def __repr__(self) -> str:
        return "CcxtCryptoComClient()"


class MethodLimiter:
    """At most `limit.requests` calls of one method in any `limit.window_seconds`, as the exchange
    counts them on arrival. A call holds its slot from the moment it is sent until a window after
    its answer: the answer is the latest moment known to follow the arrival, so however the network
    delays requests, the exchange never sees one too many. While the method is under its limit a
    call goes at once, without even an await."""

    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self._answered: deque[float] = deque()      # answer times inside the window, oldest first
        self._in_flight = 0
        self._queue = asyncio.Lock()                # waiting callers go in arrival order
        self._released = asyncio.Event()
        self.waits = 0

    def _used(self, now: float) -> int:
        while self._answered and now - self._answered[0] >= self.limit.window_seconds:
            self._answered.popleft()
        return self._in_flight + len(self._answered)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._queue.locked() or self._used(time.monotonic()) >= self.limit.requests:
            await self._wait_for_slot()
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            self._answered.append(time.monotonic())
            self._released.set()

    async def _wait_for_slot(self) -> None:
        self.waits += 1
        async with self._queue:
            while True:
                now = time.monotonic()
                if self._used(now) < self.limit.requests:
                    return
                if self._answered:
                    await asyncio.sleep(self._answered[0] + self.limit.window_seconds - now)
                else:                               # every slot is in flight: wait for an answer
                    self._released.clear()
                    await self._released.wait()


class V1Transport:
    """One signed request at a time through ccxt; answers are the v1 `result`, failures ours."""

    def __init__(self, api_key: str, api_secret: str, api_url: str, *, live_trading: bool,
                 options: TransportOptions | None = None) -> None:
        self.options = options or TransportOptions()
        self.live_trading = live_trading is True
        self._secrets = (api_key, api_secret)
        self.api_url = api_url.rstrip("/")
        client = _CcxtClient({
            # ccxt's limiter is one bucket for every method; ours is per method (MethodLimiter).
            "apiKey": api_key, "secret": api_secret, "enableRateLimit": False,
            "timeout": int(self.options.timeout_seconds * 1000),
        })
        urls = dict(client.urls)
        api = dict(urls["api"])
        # ccxt builds every v1 URL from urls['api']['v1']; the others are pointed here too so that
        # nothing this client does can reach the real exchange when a test gives a local URL.
        for name in list(api):
            api[name] = self.api_url
        urls["api"] = api
        client.urls = urls
        client.logger = _MaskedLogger(self._secrets)
        self._client = client
        self._limiters: dict[str, MethodLimiter] = {}
        self.calls = 0

    def __repr__(self) -> str:
        return f"V1Transport(api_url={self.api_url!r}, live_trading={self.live_trading})"

    @staticmethod
    def is_write(method: str) -> bool:
        return method.startswith("private/") and method not in READ_METHODS

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """The `result` of `method`, retrying 42901 with backoff (a rate-limited request was not
        processed, so sending it again is safe even for a create)."""
        if self.is_write(method) and not self.live_trading:
            raise LiveTradingDisabled(f"{method} refused: this adapter was not built for live trading")
        attempt = unavailable = 0
        while True:
            try:
                return await self._once(method, dict(params or {}))
            except RateLimited:
                if attempt >= self.options.rate_limit_retries:
                    raise
                delay = self.options.rate_limit_backoff_seconds * (2 ** attempt)
                attempt += 1
                log.warning("rate limited on %s; retry %d in %.2f s", method, attempt, delay)
                await asyncio.sleep(delay)
            except ExchangeUnavailable:
                # Reading twice changes nothing, so a passing fault is retried here; a write's
                # outcome is unknown instead, and the caller looks it up by client_oid.
                if self.is_write(method) or unavailable >= self.options.read_retries:
                    raise
                unavailable += 1
                delay = self.options.rate_limit_backoff_seconds * unavailable
                log.warning("%s did not answer; read retry %d in %.2f s", method, unavailable, delay)
                await asyncio.sleep(delay)

    def limiter(self, method: str) -> MethodLimiter:
        found = self._limiters.get(method)
        if found is None:
            limit = limit_for(method)
            if limit == HISTORY:
                limit = Limit(limit.requests, self.options.history_interval_seconds)
            found = self._limiters[method] = MethodLimiter(limit)
        return found

    async def _once(self, method: str, params: dict[str, Any]) -> Any:
        async with self.limiter(method).slot():
            return await self._request(method, params)

    async def _request(self, method: str, params: dict[str, Any]) -> Any:
        private = method.startswith("private/")
        self.calls += 1
        try:
            response = await self._client.request(method, ["v1", "private" if private else "public"],
                                                  "POST" if private else "GET", params)
        except _AnswerError as answer:
            error = (error_for_answer(answer.code, answer.message, method) if answer.code is not None
                     else error_for_http(answer.http_status, method))
            raise self._clean(error) from None
        except ExchangeError as error:
            raise self._clean(error) from None
        except ccxt.BaseError as exc:
            raise self._clean(error_for_ccxt(exc, method)) from None
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise ExchangeUnavailable(f"the connection to the exchange failed during {method} "
                                      f"({type(exc).__name__}); the outcome is unknown") from None
        if not isinstance(response, dict):
            raise ExchangeUnavailable(f"unexpected answer to {method}; the outcome is unknown")
        return response.get("result", {})

    def _clean(self, error: ExchangeError) -> ExchangeError:
        """Defense in depth: whatever text an error carries, no secret survives in it."""
        reason = scrub(error.reason, self._secrets)
        if reason == error.reason:
            return error
        return type(error)(reason, code=error.code)

    async def close(self) -> None:
        await self._client.close()
