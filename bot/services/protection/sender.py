"""What placing protection and reacting to its legs share: sending and looking up legs on the
exchange (with the instruments they need), and how a failure is announced."""

from __future__ import annotations

from decimal import Decimal

from bot.db.repositories import OcoGroupRecord
from bot.domain.events import ProtectionFailed
from bot.domain.instrument import Instrument
from bot.domain.orders import Order, OrderType, Side
from bot.domain.reasons import Reason
from bot.exchange.base import Exchange, OrderRequest, TriggerOrderRequest
from bot.exchange.errors import ExchangeError, InvalidOrder, OrderNotFound
from bot.services.events import EventBus


def exchange_args(exc: ExchangeError) -> dict[str, str]:
    """The exchange's refusal as reason values: the notifier words known codes in each language."""
    return {"exchange": exc.reason, "code": exc.code or ""}


async def publish_failure(events: EventBus, mode: str, group_id: str | None, symbol: str, wanted: Decimal,
                          protected: Decimal, reason: Reason) -> None:
    await events.publish(ProtectionFailed(
        group_id=group_id, symbol=symbol, wanted_quantity=wanted, protected_quantity=protected,
        reason=reason.text, reason_key=reason.key, reason_args=reason.args, mode=mode))


class LegSender:
    """Sends, finds and cancels protection legs on one exchange."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self._instruments: dict[str, Instrument] = {}

    async def instrument(self, symbol: str) -> Instrument:
        if symbol not in self._instruments:
            self._instruments[symbol] = await self.exchange.instrument(symbol)
        return self._instruments[symbol]

    async def lookup(self, client_oid: str | None) -> Order | None:
        if not client_oid:
            return None
        try:
            return await self.exchange.order_detail(client_oid=client_oid)
        except OrderNotFound:
            return None

    async def cancel(self, symbol: str, client_oid: str | None) -> None:
        await self.exchange.cancel_order(symbol=symbol, client_oid=client_oid)

    async def _market_reached(self, symbol: str, target: Decimal) -> bool:
        """229 refuses any trigger price the exchange will not take (the wrong side of the market, too
        far from it). Only a market already at the target makes a limit sell there fill at once;
        anywhere else it would rest on the book holding the coins the stop-loss needs, so the
        refusal stands and is told."""
        try:
            ticker = await self.exchange.ticker(symbol)
        except ExchangeError:
            return False
        best = ticker.bid if ticker.bid is not None else ticker.last
        return best is not None and best >= target

    async def send_stop(self, group: OcoGroupRecord, client_oid: str, quantity: Decimal) -> Order:
        return await self.exchange.create_trigger_order(TriggerOrderRequest(
            symbol=group.symbol, side=Side.SELL, order_type=OrderType.STOP_LOSS, client_oid=client_oid,
            quantity=quantity, trigger_price=group.stop_loss_price))

    async def send_take_profit(self, group: OcoGroupRecord, client_oid: str, quantity: Decimal) -> Order:
        """The take-profit of two linked legs waits as a trigger, not as a resting limit: a resting
        sell would hold the very coins the stop-loss needs when it fires. When the market is
        already past the target (229), a plain limit sell takes the profit at once."""
        try:
            return await self.exchange.create_trigger_order(TriggerOrderRequest(
                symbol=group.symbol, side=Side.SELL, order_type=OrderType.TAKE_PROFIT_LIMIT, client_oid=client_oid,
                quantity=quantity, trigger_price=group.take_profit_price, price=group.take_profit_price))
        except InvalidOrder as exc:
            if exc.code != "229" or not await self._market_reached(group.symbol, group.take_profit_price):
                raise
        return await self.exchange.create_order(OrderRequest(
            symbol=group.symbol, side=Side.SELL, order_type=OrderType.LIMIT, client_oid=client_oid,
            quantity=quantity, price=group.take_profit_price))
