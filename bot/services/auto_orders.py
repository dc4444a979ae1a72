"""Automatic buy orders from BUY signals, only for Trade=YES coins and only when every rule passes.

The entry goes out as an OTOCO (entry + stop-loss + take-profit) so the position is protected from
the first fill; where the exchange refuses OTOCO, a plain LIMIT buy goes out and the protection
service protects it when it fills. Every attempt is stored with the rule that blocked it, if any.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from bot.db.repositories import AutoOrderDecision, AutoOrderDecisionRepository, WatchlistEntry
from bot.domain.events import AutoOrderPlaced, AutoOrderRefused
from bot.domain.instrument import Instrument
from bot.domain.money import ZERO, percent_of, plain
from bot.domain.order_rules import OrderCandidate, Refusal, RuleLimits, first_refusal
from bot.domain.orders import Order, OrderType, Side, make_client_oid
from bot.domain.reasons import Reason
from bot.exchange.base import Exchange, OrderRequest, OtocoRequest
from bot.exchange.errors import ExchangeError, NativeOcoUnavailable, OrderRejectedError
from bot.services.events import EventBus

log = logging.getLogger(__name__)
FEE_HEADROOM = Decimal("1.005")     # the taker fee the exchange locks on top of a buy


@dataclass(frozen=True)
class BuyPlan:
    """A buy that passed every rule: the limit on the tick, its quantity, and the protection levels
    (before the exchange rounds them to its ticks)."""
    price: Decimal
    quantity: Decimal
    stop_loss: Decimal
    take_profit: Decimal


def plan_buy(instrument: Instrument, price: Decimal, amount: Decimal, *, trade_enabled: bool,
             open_buy_prices: tuple[Decimal, ...], last_order_price: Decimal | None, free_quote: Decimal,
             limits: RuleLimits, stop_loss_percent: Decimal, take_profit_percent: Decimal) -> BuyPlan | Refusal:
    """The order a BUY signal becomes, or the first rule that refuses it (pure; the backtest uses it too)."""
    limit_price = instrument.round_price(price, Side.BUY)
    quantity = instrument.floor_qty(amount / limit_price) if limit_price > 0 else ZERO
    candidate = OrderCandidate(
        symbol=instrument.symbol, price=limit_price, cost=quantity * limit_price * FEE_HEADROOM,
        trade_enabled=trade_enabled, open_buy_prices=open_buy_prices, last_order_price=last_order_price,
        free_quote=free_quote, quote=instrument.quote)
    refusal = first_refusal(candidate, limits)
    if refusal is None and quantity <= 0:
        refusal = Refusal.of("amount_too_small", amount=plain(amount))
    if refusal is not None:
        return refusal
    return BuyPlan(limit_price, quantity, limit_price - percent_of(limit_price, stop_loss_percent),
                   limit_price + percent_of(limit_price, take_profit_percent))


@dataclass
class AutoOrderService:
    exchange: Exchange
    events: EventBus
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    decisions: AutoOrderDecisionRepository = field(init=False)

    def __post_init__(self) -> None:
        self.decisions = AutoOrderDecisionRepository(self.exchange.mode)

    async def consider(self, entry: WatchlistEntry, price: Decimal, signal_time: datetime, *,
                       explained: tuple[Reason, ...] = ()) -> AutoOrderDecision:
        """Place a buy for this BUY signal, or store and publish why not. The same signal (a replay
        after a restart) returns its first decision: it never places, or announces, twice.
        `explained`: why the signal said BUY, told with what the buy did."""
        client_oid = make_client_oid("auto", self.exchange.mode, entry.symbol, signal_time.isoformat())
        earlier = await self.decisions.placed_for(client_oid)
        if earlier is not None:
            return earlier
        instrument = await self.exchange.instrument(entry.symbol)
        open_buys = [o for o in await self.exchange.open_orders(entry.symbol) if o.side is Side.BUY]
        last = await self.decisions.last_placed(entry.symbol)
        balances = await self.exchange.balances()
        free_quote = balances[instrument.quote].free if instrument.quote in balances else ZERO
        # Model defaults come back as ints on unsaved-then-used rows: money math stays Decimal.
        plan = plan_buy(instrument, price, Decimal(str(entry.amount_usd)), trade_enabled=entry.trade_enabled,
                        open_buy_prices=tuple(o.price for o in open_buys if o.price is not None),
                        last_order_price=last.price if last else None, free_quote=free_quote,
                        limits=RuleLimits(max_open_per_symbol=int(entry.max_open_orders),
                                          min_price_move_percent=Decimal(str(entry.min_price_move_percent))),
                        stop_loss_percent=Decimal(str(entry.stop_loss_percent)),
                        take_profit_percent=Decimal(str(entry.take_profit_percent)))
        if isinstance(plan, Refusal):
            return await self._refuse(entry.symbol, instrument.round_price(price, Side.BUY), plan, explained)
        limit_price, quantity, stop, take = plan.price, plan.quantity, plan.stop_loss, plan.take_profit

        request = OrderRequest(entry.symbol, Side.BUY, OrderType.LIMIT, client_oid, quantity=quantity,
                               price=limit_price)
        sent_stop: Decimal | None = None      # the levels that went with the buy, if it went as an OTOCO
        sent_take: Decimal | None = None
        try:
            try:
                await self.exchange.create_otoco(OtocoRequest(
                    request, stop_loss_trigger=stop, take_profit_price=take,
                    stop_loss_client_oid=make_client_oid(client_oid, "sl"),
                    take_profit_client_oid=make_client_oid(client_oid, "tp")))
                # Rounded as the exchange rounds each exit (the stop down, the target up): the message
                # must give the levels that stand, not ones a tick away.
                sent_stop = instrument.round_price(stop, Side.SELL, role="stop_loss")
                sent_take = instrument.round_price(take, Side.SELL, role="take_profit")
            except (OrderRejectedError, NativeOcoUnavailable) as exc:
                if not isinstance(exc, NativeOcoUnavailable) and exc.code not in {"218", "140001", "40002"}:
                    raise
                log.info("OTOCO refused for %s (%s): plain buy, protected on fill", entry.symbol, exc.code)
                await self.exchange.create_order(request)
        except ExchangeError as exc:
            # Refused, or an outcome the adapter could not settle: ask the exchange before calling it
            # refused, since an order that landed must count for the next signal's rules.
            if await self._landed(client_oid) is None:
                return await self._refuse(entry.symbol, limit_price, Refusal.of("exchange_refused", exchange=str(exc)),
                                          explained)
            log.warning("buy %s for %s landed despite %s", client_oid, entry.symbol, exc.reason)
        decision = await self.decisions.record(symbol=entry.symbol, allowed=True, price=limit_price,
                                               client_oid=client_oid, detail=f"buy {quantity} at {limit_price}",
                                               decided_at=self.clock())
        placed = await self.exchange.order_detail(client_oid=client_oid)
        await self.events.publish(AutoOrderPlaced(symbol=entry.symbol, order_id=placed.order_id if placed else "",
                                                  client_oid=client_oid, quantity=quantity, price=limit_price,
                                                  stop_loss_price=sent_stop, take_profit_price=sent_take,
                                                  explained=explained, mode=self.exchange.mode))
        return decision

    async def _landed(self, client_oid: str) -> Order | None:
        try:
            return await self.exchange.order_detail(client_oid=client_oid)
        except ExchangeError:
            return None

    async def record_failure(self, symbol: str, price: Decimal, exc: Exception, *,
                             explained: tuple[Reason, ...] = ()) -> AutoOrderDecision:
        """A BUY signal that could not even be considered (the exchange did not answer): stored and
        published like a refusal, so it is never silent."""
        refusal = Refusal.of("exchange_unavailable", error=f"{type(exc).__name__}: {exc}")
        return await self._refuse(symbol, price, refusal, explained)

    async def _refuse(self, symbol: str, price: Decimal, refusal: Refusal,
                      explained: tuple[Reason, ...] = ()) -> AutoOrderDecision:
        decision = await self.decisions.record(symbol=symbol, allowed=False, rule=refusal.rule,
                                               detail=refusal.detail, args=refusal.args, price=price,
                                               decided_at=self.clock())
        await self.events.publish(AutoOrderRefused(symbol=symbol, rule=refusal.rule, detail=refusal.detail,
                                                   args=refusal.args, price=price, explained=explained,
                                                   mode=self.exchange.mode))
        return decision
