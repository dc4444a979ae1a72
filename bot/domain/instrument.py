"""An exchange instrument with its tick sizes, and the safe rounding of orders to them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.domain.money import ZERO, ceil_to_step, floor_to_step, truncate_to_step
from bot.domain.orders import Side


@dataclass(frozen=True)
class Instrument:
    symbol: str          # "BTC_USDT"
    base: str            # "BTC"
    quote: str           # "USDT"
    price_tick: Decimal
    qty_tick: Decimal
    min_notional: Decimal = ZERO
    tradable: bool = True

    def floor_qty(self, qty: Decimal) -> Decimal:
        """Quantities are always rounded down: never more than what was asked or is held."""
        return truncate_to_step(qty, self.qty_tick)

    def round_price(self, price: Decimal, side: Side, *, role: str = "limit") -> Decimal:
        """Round a price to the tick in the direction that is safe for the order.

        limit: BUY down, SELL up (never pay more / sell for less than asked).
        stop_loss (a SELL stop under the market): down, so it triggers no earlier than asked.
        take_profit (a SELL above the market): up, so it takes no less profit than asked.
        For BUY-side triggers the directions mirror.
        """
        down = floor_to_step(price, self.price_tick)
        up = ceil_to_step(price, self.price_tick)
        if role == "stop_loss":
            return down if side is Side.SELL else up
        if role == "take_profit":
            return up if side is Side.SELL else down
        return down if side is Side.BUY else up

    def is_on_tick(self, value: Decimal, tick: Decimal) -> bool:
        return value % tick == 0

    def notional(self, qty: Decimal, price: Decimal) -> Decimal:
        return qty * price
