"""Portfolio valuation: stablecoins at 1, _USD before _USDT, unpriced shown as unpriced."""

from __future__ import annotations

from decimal import Decimal

from bot.domain.portfolio import unprotected_positions, usd_price, value_portfolio

D = Decimal


def test_stablecoins_count_at_one_and_others_use_usd_then_usdt() -> None:
    prices = {"BTC_USD": D(100000), "BTC_USDT": D(99990), "ETH_USDT": D(3000)}
    assert usd_price("USDT", prices) == 1 and usd_price("USDC", prices) == 1 and usd_price("USD", prices) == 1
    assert usd_price("BTC", prices) == D(100000)
    assert usd_price("ETH", prices) == D(3000)
    assert usd_price("XYZ", prices) is None


def test_unpriced_asset_is_listed_as_unpriced_not_zero() -> None:
    portfolio = value_portfolio({"USDT": D(500), "BTC": D("0.01"), "XYZ": D(7), "ETH": D(0)},
                                {"BTC_USD": D(100000)})
    assert portfolio.total_usd == D(1500)
    assert portfolio.unpriced_assets == ("XYZ",)
    assert not portfolio.complete
    xyz = portfolio.positions[-1]
    assert xyz.asset == "XYZ" and xyz.price is None and xyz.usd_value is None
    assert [p.asset for p in portfolio.positions] == ["BTC", "USDT", "XYZ"]     # ETH 0 left out
    assert xyz.as_json() == {"asset": "XYZ", "quantity": "7", "price": None, "usd_value": None}


def test_unprotected_positions_subtract_covering_sells() -> None:
    result = unprotected_positions({"BTC": D(1), "USDT": D(100), "ETH": D(2), "XYZ": D(5)},
                                   {"BTC": D("0.4"), "ETH": D(2)}, {"BTC_USDT": D(100000)})
    assert [(p.asset, p.quantity, p.value_at_risk_usd) for p in result] == [
        ("BTC", D("0.6"), D("60000.0")), ("XYZ", D(5), None)]
