"""The signal strategy: indicators and the current price in, BUY / SELL / WAIT with reasons out.

Pure: no I/O, no clock. What it tracks between decisions (the reference price of the last BUY,
the last non-WAIT decision) lives in `TrackedState`, which a WAIT never resets.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from bot.domain.money import plain
from bot.domain.reasons import Reason


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
    reasons: tuple[str, ...]                 # English, as stored with the signal
    state: TrackedState
    explained: tuple[Reason, ...] = ()       # the same reasons as keys and values, for each reader's language

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
        return _wait([Reason.of("indicators_unavailable")], state)

    if rsi > params.rsi_sell:
        reasons = [Reason.of("rsi_above", rsi=_fmt(rsi), limit=_fmt(params.rsi_sell))]
        if price < ema50:
            reasons.append(Reason.of("price_below_ema50", ema=_fmt(ema50)))
        return _verdict(Decision.SELL, reasons, replace(state, last_signal=Decision.SELL), state)

    if rsi < params.rsi_buy:
        reasons = [Reason.of("rsi_below", rsi=_fmt(rsi), limit=_fmt(params.rsi_buy))]
        if ema200 is not None:
            side = "above" if price >= ema200 else "below"
            reasons.append(Reason.of(f"price_{side}_ema200", ema=_fmt(ema200)))
        if volume_ratio is not None and volume_ratio < params.min_volume_ratio:
            reasons.append(Reason.of("low_volume", ratio=_fmt(volume_ratio), minimum=_fmt(params.min_volume_ratio)))
            return _wait(reasons, state)
        if state.reference_price is not None and state.last_signal is Decision.BUY:
            move = abs(price - state.reference_price) / state.reference_price * 100
            if move < params.rebuy_move_percent:
                reasons.append(Reason.of("too_close_to_last_buy", move=plain(move.quantize(Decimal("0.01"))),
                                         reference=plain(state.reference_price),
                                         needed=_fmt(params.rebuy_move_percent)))
                return _wait(reasons, state)
        new_state = TrackedState(reference_price=price, last_signal=Decision.BUY)
        return _verdict(Decision.BUY, reasons, new_state, state)

    side = "above" if price >= ema50 else "below"
    return _wait([Reason.of("rsi_between", rsi=_fmt(rsi), low=_fmt(params.rsi_buy), high=_fmt(params.rsi_sell)),
                  Reason.of(f"price_{side}_ema50", ema=_fmt(ema50))], state)


def _wait(reasons: list[Reason], state: TrackedState) -> Verdict:
    return Verdict(Decision.WAIT, tuple(r.text for r in reasons), state, tuple(reasons))


def _verdict(decision: Decision, reasons: list[Reason], new: TrackedState, old: TrackedState) -> Verdict:
    rebuy = decision is Decision.BUY and new.reference_price != old.reference_price
    was_new = old.last_signal is not decision or rebuy
    return Verdict(decision, tuple(r.text for r in reasons), new, tuple(reasons), _was_new=was_new)
