"""What placing protection and reacting to its legs share: the service's dependencies, instruments,
look-ups by client_oid, the failure events, and how each linked leg is sent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal

from bot.db.models import OcoGroupRecord
from bot.domain.events import ProtectionFailed
from bot.domain.instrument import Instrument
from bot.domain.money import plain
from bot.domain.orders import Order, OrderType, Side
from bot.domain.reasons import Reason
from bot.exchange.base import Exchange, OrderRequest, TriggerOrderRequest
from bot.exchange.errors import (
    ExchangeError,
    InvalidOrder,
    OrderNotFound,
)
from bot.services.events import EventBus
from bot.services.order_repository import OrderRepository

log = logging.getLogger(__name__)

StepHook = Callable[[str], Awaitable[None]]


def exchange_args(exc: ExchangeError) -> dict[str, str]:
    """The exchange's refusal as reason values: the notifier words known codes in each language."""
    return {"exchange": exc.reason, "code": exc.code or ""}


class ProtectionCore:
    def __init__(self, exchange: Exchange, repository: OrderRepository, events: EventBus, *,
                 prefer_native_oco: bool = True, step_hook: StepHook | None = None) -> None:
        self.exchange = exchange
        self.repo = repository
        self.events = events
        self.prefer_native_oco = prefer_native_oco
        self._step_hook = step_hook
        self._lock = asyncio.Lock()
        self._instruments: dict[str, Instrument] = {}
        # The planner's detailed shortfall reason, until the group is activated (lost on a restart).
        self._plan_reasons: dict[str, Reason] = {}

    @property
    def mode(self) -> str:
        return self.repo.mode

    async def _step(self, name: str) -> None:
        if self._step_hook is not None:
            await self._step_hook(name)

    async def _instrument(self, symbol: str) -> Instrument:
        if symbol not in self._instruments:
            self._instruments[symbol] = await self.exchange.instrument(symbol)
        return self._instruments[symbol]

    async def _lookup(self, client_oid: str | None) -> Order | None:
        if not client_oid:
            return None
        try:
            return await self.exchange.order_detail(client_oid=client_oid)
        except OrderNotFound:
            return None

    async def _publish_failure(self, group_id: str | None, symbol: str, wanted: Decimal, protected: Decimal,
                               reason: Reason) -> None:
        await self.events.publish(ProtectionFailed(
            group_id=group_id, symbol=symbol, wanted_quantity=wanted, protected_quantity=protected,
            reason=reason.text, reason_key=reason.key, reason_args=reason.args, mode=self.mode))

    async def _send_stop_leg(self, group: OcoGroupRecord, client_oid: str, quantity: Decimal) -> Order:
        return await self.exchange.create_trigger_order(TriggerOrderRequest(
            symbol=group.symbol, side=Side.SELL, order_type=OrderType.STOP_LOSS, client_oid=client_oid,
            quantity=quantity, trigger_price=group.stop_loss_price))

    async def _send_take_profit_leg(self, group: OcoGroupRecord, client_oid: str, quantity: Decimal) -> Order:
        """The take-profit of two linked legs waits as a trigger, not as a resting limit: a resting
        sell would hold the very coins the stop-loss needs when it fires. When the market is
        already past the target (229), a plain limit sell takes the profit at once."""
        try:
            return await self.exchange.create_trigger_order(TriggerOrderRequest(
                symbol=group.symbol, side=Side.SELL, order_type=OrderType.TAKE_PROFIT_LIMIT, client_oid=client_oid,
                quantity=quantity, trigger_price=group.take_profit_price, price=group.take_profit_price))
        except InvalidOrder as exc:
            if exc.code != "229":
                raise
        return await self.exchange.create_order(OrderRequest(
            symbol=group.symbol, side=Side.SELL, order_type=OrderType.LIMIT, client_oid=client_oid,
            quantity=quantity, price=group.take_profit_price))

    async def _partly_protected(self, group: OcoGroupRecord, wanted: Decimal) -> Reason:
        instrument = await self._instrument(group.symbol)
        return Reason.of("partly_protected", protected=plain(group.quantity), wanted=plain(wanted),
                         asset=instrument.base)
