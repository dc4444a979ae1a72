"""Planning the protection of a filled buy: SL/TP prices, and how much may be sold without overselling.

Pure: the caller passes the instrument, the percentages, the free balance and the open sells.
The plan says what to place and, when less than the fill can be protected, why (never silent).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from bot.domain.instrument import Instrument
from bot.domain.money import ZERO, percent_of, plain
from bot.domain.orders import Side
from bot.domain.reasons import Reason

DEFAULT_STOP_LOSS_PERCENT = Decimal(3)
DEFAULT_TAKE_PROFIT_PERCENT = Decimal(3)


@dataclass(frozen=True)
class ProtectionPrices:
    stop_loss: Decimal
    take_profit: Decimal


def protection_prices(instrument: Instrument, entry_price: Decimal, *, stop_loss_percent: Decimal,
                      take_profit_percent: Decimal) -> ProtectionPrices:
    """SL under and TP over the entry, rounded so neither is worse than asked:
    the stop never triggers earlier (rounded down), the target never takes less (rounded up)."""
    if entry_price <= 0:
        raise ValueError(f"entry price must be positive, got {entry_price}")
    if not (ZERO < stop_loss_percent < 100) or take_profit_percent <= 0:
        raise ValueError(f"bad percentages: SL {stop_loss_percent} %, TP {take_profit_percent} %")
    stop = entry_price - percent_of(entry_price, stop_loss_percent)
    target = entry_price + percent_of(entry_price, take_profit_percent)
    return ProtectionPrices(
        stop_loss=instrument.round_price(stop, Side.SELL, role="stop_loss"),
        take_profit=instrument.round_price(target, Side.SELL, role="take_profit"),
    )


@dataclass(frozen=True)
class OpenSell:
    """An open sell order on the asset (protection legs and hand-placed ones alike)."""
    order_id: str
    remaining_quantity: Decimal
    group_id: str | None = None     # legs of one group lock the position once, not twice


def covered_quantity(open_sells: Iterable[OpenSell]) -> Decimal:
    """What open sells already cover: each group counts its largest leg once, other sells their rest."""
    per_group: dict[str, Decimal] = {}
    loose = ZERO
    for sell in open_sells:
        if sell.group_id is None:
            loose += sell.remaining_quantity
        else:
            per_group[sell.group_id] = max(per_group.get(sell.group_id, ZERO), sell.remaining_quantity)
    return loose + sum(per_group.values(), ZERO)


@dataclass(frozen=True)
class ProtectionPlan:
    symbol: str
    wanted_quantity: Decimal       # the filled quantity of the buy
    quantity: Decimal              # what will be placed (0: nothing)
    entry_price: Decimal
    stop_loss_price: Decimal
    take_profit_price: Decimal
    shortfall: Reason | None = None   # why quantity < wanted_quantity (None when it is not)

    @property
    def shortfall_reason(self) -> str | None:
        return self.shortfall.text if self.shortfall is not None else None

    @property
    def missing_quantity(self) -> Decimal:
        return self.wanted_quantity - self.quantity

    @property
    def places_anything(self) -> bool:
        return self.quantity > 0


def plan_protection(instrument: Instrument, *, filled_quantity: Decimal, entry_price: Decimal,
                    free_quantity: Decimal, open_sells: Iterable[OpenSell] = (),
                    stop_loss_percent: Decimal = DEFAULT_STOP_LOSS_PERCENT,
                    take_profit_percent: Decimal = DEFAULT_TAKE_PROFIT_PERCENT) -> ProtectionPlan:
    """Protect the filled quantity, but never more than is free to sell.

    The exchange refuses a sell larger than the free balance (306), and an oversell retried every
    cycle is how the old system looped on errors. So the plan places only what is free (rounded down
    to the quantity step) and names what blocked the rest: other open sells, or a missing balance.
    """
    prices = protection_prices(instrument, entry_price, stop_loss_percent=stop_loss_percent,
                               take_profit_percent=take_profit_percent)
    wanted = instrument.floor_qty(filled_quantity)
    sellable = instrument.floor_qty(max(ZERO, min(wanted, free_quantity)))
    sells = list(open_sells)
    reason: Reason | None = None
    if sellable < wanted:
        locked = covered_quantity(sells)
        if locked > 0:
            ids = ", ".join(s.order_id for s in sells[:5]) + (" …" if len(sells) > 5 else "")
            reason = Reason.of("shortfall_locked", free=plain(sellable), asset=instrument.base,
                               locked=plain(locked), orders=ids)
        else:
            reason = Reason.of("shortfall_free", free=plain(sellable), asset=instrument.base, wanted=plain(wanted))
    quantity = sellable
    if quantity > 0 and instrument.min_notional > 0 and quantity * prices.stop_loss < instrument.min_notional:
        reason = Reason.of("below_minimum", quantity=plain(quantity), asset=instrument.base,
                           price=plain(prices.stop_loss), minimum=plain(instrument.min_notional),
                           quote=instrument.quote)
        quantity = ZERO
    return ProtectionPlan(symbol=instrument.symbol, wanted_quantity=wanted, quantity=quantity,
                          entry_price=entry_price, stop_loss_price=prices.stop_loss,
                          take_profit_price=prices.take_profit, shortfall=reason)


def next_tranche(instrument: Instrument, *, sellable_bought: Decimal, handled: Decimal,
                 entry_price: Decimal | None, stop_loss_percent: Decimal, buy_done: bool) -> Decimal:
    """How much of a buy's fill a new protection tranche takes now (0: none now).

    `handled` is what earlier tranches of the buy stand for. While the buy is still open, the
    unprotected part waits until it can be placed on its own (a whole quantity step worth the
    instrument's minimum at the stop price); once the buy has ended, whatever is left is planned,
    so a remainder too small to place is reported instead of forgotten."""
    rest = instrument.floor_qty(max(ZERO, sellable_bought - handled))
    if rest <= 0 or buy_done:
        return rest
    if entry_price is None or entry_price <= 0:
        return ZERO
    stop = instrument.round_price(entry_price - percent_of(entry_price, stop_loss_percent), Side.SELL, role="stop_loss")
    if instrument.min_notional > 0 and rest * stop < instrument.min_notional:
        return ZERO
    return rest


def remaining_for_sibling(group_quantity: Decimal, filled_by_leg: Decimal, instrument: Instrument) -> Decimal:
    """After one leg sold part of the position, the other must protect only what is left."""
    return instrument.floor_qty(max(ZERO, group_quantity - filled_by_leg))
