"""Portfolio valuation in USD, and the holdings that no open sell protects.

USD and the USD stablecoins count at 1; every other asset is priced through its `<ASSET>_USD`
ticker, else `<ASSET>_USDT`. An asset without a price is listed as unpriced, never as worth zero,
and the total says it is partial.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from bot.domain.money import ZERO

USD_STABLECOINS = frozenset({"USD", "USDT", "USDC", "DAI", "TUSD", "USDP", "PYUSD", "FDUSD", "BUSD", "USDE"})


def usd_price(asset: str, last_prices: Mapping[str, Decimal | None]) -> Decimal | None:
    """The asset's USD price from `{symbol: last}`; None when the exchange lists no usable ticker."""
    if asset in USD_STABLECOINS:
        return Decimal(1)
    for symbol in (f"{asset}_USD", f"{asset}_USDT"):
        price = last_prices.get(symbol)
        if price is not None and price > 0:
            return price
    return None


@dataclass(frozen=True)
class Position:
    asset: str
    quantity: Decimal
    price: Decimal | None          # USD per unit; None = unpriced
    usd_value: Decimal | None

    @property
    def priced(self) -> bool:
        return self.price is not None

    def as_json(self) -> dict[str, str | None]:
        return {"asset": self.asset, "quantity": str(self.quantity),
                "price": None if self.price is None else str(self.price),
                "usd_value": None if self.usd_value is None else str(self.usd_value)}


@dataclass(frozen=True)
class Portfolio:
    positions: tuple[Position, ...]     # largest USD value first, unpriced last
    total_usd: Decimal                  # sum of the priced positions only

    @property
    def unpriced_assets(self) -> tuple[str, ...]:
        return tuple(p.asset for p in self.positions if not p.priced)

    @property
    def complete(self) -> bool:
        return not self.unpriced_assets


def value_portfolio(quantities: Mapping[str, Decimal], last_prices: Mapping[str, Decimal | None]) -> Portfolio:
    positions = []
    for asset, quantity in quantities.items():
        if quantity == 0:
            continue
        price = usd_price(asset, last_prices)
        positions.append(Position(asset=asset, quantity=quantity, price=price,
                                  usd_value=None if price is None else quantity * price))
    positions.sort(key=lambda p: (p.usd_value is None, -(p.usd_value or ZERO), p.asset))
    total = sum((p.usd_value for p in positions if p.usd_value is not None), ZERO)
    return Portfolio(positions=tuple(positions), total_usd=total)


@dataclass(frozen=True)
class UnprotectedPosition:
    """Holdings of an asset that no open sell order covers: what a fall would cost."""
    asset: str
    quantity: Decimal
    price: Decimal | None
    value_at_risk_usd: Decimal | None


def unprotected_positions(holdings: Mapping[str, Decimal], covered: Mapping[str, Decimal],
                          last_prices: Mapping[str, Decimal | None], *,
                          dust_usd: Decimal = Decimal(1)) -> tuple[UnprotectedPosition, ...]:
    """Per non-stable asset: held minus covered by open sells. Dust worth under `dust_usd` is left out;
    an unpriced asset is always shown (its value is unknown, not small)."""
    out = []
    for asset, held in holdings.items():
        if asset in USD_STABLECOINS:
            continue
        quantity = held - covered.get(asset, ZERO)
        if quantity <= 0:
            continue
        price = usd_price(asset, last_prices)
        value = None if price is None else quantity * price
        if value is not None and value < dust_usd:
            continue
        out.append(UnprotectedPosition(asset=asset, quantity=quantity, price=price, value_at_risk_usd=value))
    out.sort(key=lambda p: (p.value_at_risk_usd is None, -(p.value_at_risk_usd or ZERO), p.asset))
    return tuple(out)
