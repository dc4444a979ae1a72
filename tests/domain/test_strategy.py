"""The strategy explains each decision and keeps what it tracks across WAITs."""

from __future__ import annotations

from decimal import Decimal as D

from bot.domain.strategy import Decision, StrategyParams, TrackedState, decide

PARAMS = StrategyParams()


def values(rsi: str, ema50: str = "100", ema200: str = "90", volume_ratio: str = "1.2") -> dict[str, D]:
    return {"rsi": D(rsi), "ema50": D(ema50), "ema200": D(ema200), "volume_ratio": D(volume_ratio)}


def test_oversold_gives_buy_with_its_reasons() -> None:
    verdict = decide(values("28"), D(101), TrackedState(), PARAMS)
    assert verdict.decision is Decision.BUY and verdict.changed
    assert verdict.reasons == ("RSI 28 < 30", "price above EMA200 (90)")
    assert verdict.state.reference_price == D(101)


def test_overbought_gives_sell() -> None:
    verdict = decide(values("75"), D(99), TrackedState(), PARAMS)
    assert verdict.decision is Decision.SELL
    assert verdict.reasons == ("RSI 75 > 70", "price below EMA50 (100)")


def test_wait_keeps_the_reference_price_and_the_three_percent_rule() -> None:
    bought = decide(values("25"), D(100), TrackedState(), PARAMS).state
    waited = decide(values("50"), D(99), bought, PARAMS)
    assert waited.decision is Decision.WAIT and waited.state == bought      # WAIT resets nothing
    again = decide(values("25"), D("98.5"), waited.state, PARAMS)
    assert again.decision is Decision.WAIT
    assert "only 1.5 % away from the last BUY at 100 (needs 3 %)" in again.reasons[-1]
    moved = decide(values("25"), D(97), again.state, PARAMS)
    assert moved.decision is Decision.BUY and moved.changed and moved.state.reference_price == D(97)


def test_alerts_fire_once_per_signal_change() -> None:
    first = decide(values("75"), D(99), TrackedState(), PARAMS)
    repeat = decide(values("76"), D(99), first.state, PARAMS)
    assert first.changed and not repeat.changed


def test_thin_volume_holds_a_buy_and_parameters_are_not_constants() -> None:
    thin = decide(values("25", volume_ratio="0.2"), D(100), TrackedState(), PARAMS)
    assert thin.decision is Decision.WAIT and "volume 0.2× its 20-candle average < 0.5×" in thin.reasons[-1]
    strict = decide(values("28"), D(100), TrackedState(), StrategyParams(rsi_buy=D(25)))
    assert strict.decision is Decision.WAIT


def test_missing_indicators_wait() -> None:
    assert decide({}, D(1), TrackedState(), PARAMS).decision is Decision.WAIT


def test_the_move_since_the_last_buy_is_told_in_hundredths() -> None:
    """Seen in the demo's /signals: "only 0.922731 % away from the last BUY"."""
    bought = decide(values("25"), D("38845.56"), TrackedState(), PARAMS).state
    again = decide(values("25"), D("39204"), bought, PARAMS)
    assert "only 0.92 % away from the last BUY at 38845.56 (needs 3 %)" in again.reasons[-1]
