"""The signal strategy: indicators and the current price in, BUY / SELL / WAIT with reasons out.

Pure: no I/O, no clock. What it tracks between decisions (the reference price of the last BUY,
the last non-WAIT decision) lives in `TrackedState`, which a WAIT never resets.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from bot.domain.money import plain


class Decision(StrEnum):
    BUY = "BUY"
    SELL = "SELL"
    WAIT = "WAIT"


@dataclass(frozen=True)
class StrategyParams:
    rsi_buy: Decimal = Decimal(30)
    rsi_sell: Decimal = Decimal(70)
    min_volume_ratio: Decimal = Decimal("0.5")
    rebuy_move_percent: Decimal = Decimal(3)


@dataclass(frozen=True)
class TrackedState:
    reference_price: Decimal | None = None     # price of the last BUY signal
    last_signal: Decision | None = None        # last BUY/SELL; WAIT never overwrites it


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reasons: tuple[str, ...]
    state: TrackedState

    @property
    def changed(self) -> bool:
        """A new BUY/SELL that differs from the previous one: the moment to alert."""
        return self.decision is not Decision.WAIT and self.reasons != () and self._was_new

    _was_new: bool = False


def _fmt(value: Decimal) -> str:
    return plain(value.quantize(Decimal("0.01")) if abs(value) >= 1 else value.quantize(Decimal("0.000001")))


def decide(values: dict[str, Decimal], price: Decimal, state: TrackedState, params: StrategyParams) -> Verdict:
    rsi, ema50, ema200 = values.get("rsi"), values.get("ema50"), values.get("ema200")
    volume_ratio = values.get("volume_ratio")
    if rsi is None or ema50 is None:
        return Verdict(Decision.WAIT, ("indicators unavailable",), state)

    if rsi > params.rsi_sell:
        reasons = [f"RSI {_fmt(rsi)} > {_fmt(params.rsi_sell)}"]
        if price < ema50:
            reasons.append(f"price below EMA50 ({_fmt(ema50)})")
        return _verdict(Decision.SELL, reasons, replace(state, last_signal=Decision.SELL), state)

    if rsi < params.rsi_buy:
        reasons = [f"RSI {_fmt(rsi)} < {_fmt(params.rsi_buy)}"]
        if ema200 is not None:
            reasons.append(f"price {'above' if price >= ema200 else 'below'} EMA200 ({_fmt(ema200)})")
        if volume_ratio is not None and volume_ratio < params.min_volume_ratio:
            reasons.append(f"volume {_fmt(volume_ratio)}× its 20-candle average < {_fmt(params.min_volume_ratio)}×")
            return Verdict(Decision.WAIT, tuple(reasons), state)
        if state.reference_price is not None and state.last_signal is Decision.BUY:
            move = abs(price - state.reference_price) / state.reference_price * 100
            if move < params.rebuy_move_percent:
                reasons.append(f"only {_fmt(move)} % from the last BUY at {plain(state.reference_price)} "
                               f"(needs {_fmt(params.rebuy_move_percent)} %)")
                return Verdict(Decision.WAIT, tuple(reasons), state)
        new_state = TrackedState(reference_price=price, last_signal=Decision.BUY)
        return _verdict(Decision.BUY, reasons, new_state, state)

    reasons = [f"RSI {_fmt(rsi)} between {_fmt(params.rsi_buy)} and {_fmt(params.rsi_sell)}",
               f"price {'above' if price >= ema50 else 'below'} EMA50 ({_fmt(ema50)})"]
    return Verdict(Decision.WAIT, tuple(reasons), state)


def _verdict(decision: Decision, reasons: list[str], new: TrackedState, old: TrackedState) -> Verdict:
    rebuy = decision is Decision.BUY and new.reference_price != old.reference_price
    was_new = old.last_signal is not decision or rebuy
    return Verdict(decision, tuple(reasons), new, _was_new=was_new)
