"""An `Exchange` decorator that writes every action taken on the exchange to the audit log.

Reads pass straight through; writes are recorded with their outcome (ok / refused / error /
ambiguous). Requests are stored as plain values; no secret ever passes through here.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from enum import Enum
from typing import Any

from bot.db.repositories import AuditLogRepository
from bot.exchange.errors import ExchangeError, ExchangeUnavailable, OrderRejectedError

log = logging.getLogger(__name__)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class AuditedExchange:
    WRITES = ("create_order", "create_trigger_order", "create_oco", "cancel_oco", "create_otoco", "cancel_otoco",
              "cancel_order")

    def __init__(self, inner: Any, *, account: str = "main") -> None:
        self._inner = inner
        self._audit = AuditLogRepository(inner.mode, account)
        self.name = inner.name
        self.mode = inner.mode

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name in self.WRITES:
            return self._audited(name, attr)
        return attr

    def _audited(self, action: str, method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            request = _plain(args[0]) if args else _plain(kwargs)
            symbol = request.get("symbol") if isinstance(request, dict) else None
            if symbol is None and isinstance(request, dict) and isinstance(request.get("entry"), dict):
                symbol = request["entry"].get("symbol")
            client_oid = request.get("client_oid") if isinstance(request, dict) else None
            try:
                result = await method(*args, **kwargs)
            except ExchangeUnavailable as exc:
                await self._record(action, symbol, client_oid, None, request, "ambiguous", exc.reason)
                raise
            except OrderRejectedError as exc:
                await self._record(action, symbol, client_oid, None, request, "refused", str(exc))
                raise
            except ExchangeError as exc:
                await self._record(action, symbol, client_oid, None, request, "error", str(exc))
                raise
            order_id = getattr(result, "order_id", None) or getattr(result, "list_id", None)
            await self._record(action, symbol, client_oid, order_id, request, "ok", "")
            return result

        return call

    async def _record(self, action: str, symbol: Any, client_oid: Any, order_id: Any,
                      request: Any, outcome: str, detail: str) -> None:
        try:
            await self._audit.record(action=action, symbol=symbol, client_oid=client_oid,
                                     exchange_order_id=order_id,
                                     request=request if isinstance(request, dict) else {"args": request},
                                     outcome=outcome, detail=detail[:2000])
        except Exception:
            # The audit must never turn a placed order into a reported failure.
            log.exception("could not write audit log for %s %s", action, client_oid)
