"""What the strategy and the order rules store is read back as the key and values it was worded
from, and every stale-data sentence the data checks store is recognised: the producers are run
here, so a reason no template words (or a sentence no pattern matches) fails."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal

import numpy as np

from bot.domain.order_rules import RULES, OrderCandidate, RuleLimits
from bot.domain.reasons import Reason
from bot.domain.strategy import Decision, StrategyParams, TrackedState, Verdict, decide
from bot.exchange.base import Candle
from bot.presentation.signal_words import parse_stale, stale_words
from bot.services.indicators import MIN_CANDLES, CandleArrays, compute_indicators, data_problem, indicators_at
from bot.telegram.setup import build_i18n

D = Decimal


def strategy_verdicts() -> Iterator[Verdict]:
    params = StrategyParams()
    states = [TrackedState(), TrackedState(D(100), Decision.BUY), TrackedState(D(100), Decision.SELL)]
    for rsi, price, ema, volume, state in itertools.product(
            (D(20), D(50), D(80)), (D("99.5"), D(100), D("0.000123")), (D(90), D(110)), (D("0.2"), D(2)), states):
        values = {"rsi": rsi, "ema50": ema, "ema200": ema, "volume_ratio": volume}
        yield decide(values, price, state, params)
    yield decide({}, D(1), TrackedState(), params)
    yield decide({"rsi": D(20), "ema50": D(1)}, D(1), TrackedState(), params)


def candles(count: int, *, gap_at: int | None = None, zero_volume_from: int | None = None) -> list[Candle]:
    out, t = [], 0
    for i in range(count):
        t += 3_600_000 * (2 if gap_at == i else 1)
        volume = D(0) if zero_volume_from is not None and i >= zero_volume_from else D(10)
        out.append(Candle(t, D(100), D(101), D(99), D(100) + D(i % 7), volume))
    return out


def stale_reasons() -> Iterator[str]:
    yield data_problem(candles(50), "1h") or ""
    yield data_problem(candles(300, gap_at=250), "1h") or ""
    yield data_problem(candles(300, zero_volume_from=270), "1h") or ""
    yield data_problem(candles(300, zero_volume_from=299), "1h") or ""
    flat = candles(MIN_CANDLES + 5)
    arrays = CandleArrays.of(flat)
    broken = CandleArrays(arrays.timestamps, arrays.high, arrays.low, np.full(len(flat), np.nan), arrays.volume,
                          arrays.closes)
    yield indicators_at(broken, len(flat) - 1).stale_reason or ""
    yield compute_indicators([]).stale_reason or ""
    # What the market updater stores for a coin whose candles could not be fetched.
    yield "no market data: ExchangeError: instrument not found"


def refusals() -> Iterator[tuple[str, str, tuple[tuple[str, str], ...]]]:
    base = OrderCandidate(symbol="BTC_USDT", price=D(100), cost=D(50), trade_enabled=True,
                          open_buy_prices=(), last_order_price=None, free_quote=D(1000))
    limits = RuleLimits()
    cases = [
        OrderCandidate(**{**base.__dict__, "trade_enabled": False}),
        OrderCandidate(**{**base.__dict__, "open_buy_prices": (D(90), D(95), D(98))}),
        OrderCandidate(**{**base.__dict__, "open_buy_prices": (D(100),)}),
        OrderCandidate(**{**base.__dict__, "last_order_price": D("99.5")}),
        OrderCandidate(**{**base.__dict__, "free_quote": D("10.5")}),
    ]
    for candidate in cases:
        for rule in RULES:
            refusal = rule(candidate, limits)
            if refusal is not None:
                yield refusal.rule, refusal.detail, refusal.args


def test_every_strategy_reason_is_kept_as_its_key_and_values() -> None:
    verdicts = list(strategy_verdicts())
    explained = {r for v in verdicts for r in v.explained}
    assert len(explained) > 10
    for verdict in verdicts:
        assert tuple(r.text for r in verdict.explained) == verdict.reasons
        assert tuple(Reason.from_stored(r.stored()) for r in verdict.explained) == verdict.explained


def test_every_stale_reason_is_read_back() -> None:
    produced = [r for r in stale_reasons() if r]
    assert len(produced) == 7
    assert [r for r in produced if parse_stale(r) is None] == []


def test_every_order_rule_refusal_is_read_back_under_its_rule() -> None:
    produced = {rule: (detail, args) for rule, detail, args in refusals()}
    assert set(produced) == {"trade_disabled", "max_open_per_symbol", "duplicate_price", "min_price_move",
                             "insufficient_balance"}
    for rule, (detail, args) in produced.items():
        kept = Reason.from_stored({"key": rule, "values": dict(args)})
        assert kept is not None and kept.text == detail


def test_a_row_from_before_values_were_kept_is_not_worded() -> None:
    assert Reason.from_stored({"key": "min_price_move", "values": {}}) is None
    assert Reason.from_stored({"key": "no_such_reason", "values": {}}) is None
    assert Reason.from_stored("RSI 28.53 < 30") is None
    assert Reason.from_stored({"key": "indicators_unavailable", "values": {}}) == Reason("indicators_unavailable")


def test_stale_reasons_read_in_spanish_with_spanish_numbers() -> None:
    i18n = build_i18n("es")
    assert stale_words("too little history: 1000 candles, needs 2140", lambda t: i18n.gettext(t, locale="es"),
                       "es") == "poco historial: 1.000 velas, hacen falta 2.140"


def test_unknown_sentences_are_not_guessed() -> None:
    assert stale_words("something else", str, "en") == "something else"
