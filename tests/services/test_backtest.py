"""The backtest on real candles: the live strategy's decisions, the order rules, the paper fill model."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from bot.domain.order_rules import RuleLimits
from bot.domain.strategy import Decision, TrackedState, decide
from bot.exchange.base import Candle
from bot.exchange.marketdata import load_candles
from bot.services.backtest import BacktestConfig, run_backtest
from bot.services.indicators import compute_indicators
from tests.conftest import candle_file

HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def btc() -> list[Candle]:
    return load_candles(candle_file("BTC_USDT-1h.csv"))


@pytest.fixture(scope="module")
def btc_result(btc: list[Candle]):
    return run_backtest(btc, BacktestConfig("BTC_USDT"))


def test_decisions_are_the_live_strategys_candle_by_candle(btc: list[Candle]) -> None:
    # What the market updater + monitor would decide at each close, recomputed the slow way.
    candles = btc[:700]
    state, expected = TrackedState(), {"BUY": 0, "SELL": 0, "WAIT": 0}
    config = BacktestConfig("BTC_USDT")
    for index in range(len(candles)):
        indicators = compute_indicators(candles[:index + 1])
        if indicators.stale:
            continue
        verdict = decide(indicators.values, candles[index].close, state, config.params)
        state = verdict.state
        expected[verdict.decision.value] += 1
    result = run_backtest(candles, config)
    assert {k: result.signals[k] for k in expected} == expected
    assert result.decided == sum(expected.values()) == len(candles) - result.stale["too little history"]


def test_every_trade_is_protected_three_percent_each_side_and_the_books_balance(btc_result) -> None:
    result = btc_result
    assert len(result.trades) >= 10 and result.closed_trades
    for trade in result.trades:
        assert trade.quantity * trade.price <= Decimal(100)
        if trade.exit == "take_profit":
            assert trade.proceeds > trade.quantity * trade.price * Decimal("1.02")
        if trade.exit == "stop_loss":
            assert trade.proceeds < trade.quantity * trade.price * Decimal("0.97")
    open_or_unfilled = [t for t in result.trades if not t.closed]
    if not open_or_unfilled:
        # Every quote unit is accounted for: the equity change is the sum of the trades' P/L, exactly.
        assert result.pnl == sum((t.pnl for t in result.trades), Decimal(0))
    assert result.fees == sum((t.fees for t in result.trades), Decimal(0)) > 0
    assert all(isinstance(p.equity, Decimal) for p in result.equity)
    worst, worst_percent = result.max_drawdown
    assert 0 < worst < result.starting_equity and 0 < worst_percent < 100


def test_exits_happen_on_a_later_candle_that_reaches_the_level(btc: list[Candle], btc_result) -> None:
    by_close = {c.timestamp_ms + HOUR_MS: c for c in btc}
    for trade in btc_result.closed_trades:
        assert trade.exit_ms is not None and trade.exit_ms > trade.entry_ms
        candle = by_close[trade.exit_ms]
        if trade.exit == "take_profit":
            assert candle.high >= trade.price * Decimal("1.03")
        else:
            assert candle.low <= trade.price * Decimal("0.97")


def test_the_order_rules_refuse_buy_signals(btc: list[Candle], btc_result) -> None:
    # The strategy's own rebuy rule and the order rule both want 3 %, but a BUY after a SELL
    # resets only the strategy's: the order rule still refuses a buy near the last order.
    assert btc_result.refusals["min_price_move"] > 0
    assert btc_result.signals["BUY new"] == len(btc_result.trades) + sum(btc_result.refusals.values())
    none_allowed = run_backtest(btc[:2000], BacktestConfig("BTC_USDT", limits=RuleLimits(max_open_per_symbol=0)))
    assert none_allowed.trades == () and none_allowed.refusals["max_open_per_symbol"] > 0
    assert none_allowed.pnl == 0 and none_allowed.fees == 0
    poor = run_backtest(btc[:2000], BacktestConfig("BTC_USDT", starting_quote=Decimal(60)))
    assert poor.trades == () and poor.refusals["insufficient_balance"] == poor.signals["BUY new"] > 0


def test_history_before_the_period_feeds_the_indicators_but_never_trades(btc: list[Candle]) -> None:
    start = 1000
    result = run_backtest(btc[:2000], BacktestConfig("BTC_USDT"), start=start)
    assert result.history == start and result.candles == 1000 and result.decided == 1000
    assert all(t.entry_ms > btc[start].timestamp_ms for t in result.trades)
    assert result.equity[0].time_ms == btc[start].timestamp_ms + HOUR_MS


def test_a_coin_with_gaps_runs_and_its_stale_candles_make_no_decision() -> None:
    dgb = load_candles(candle_file("DGB_USDT-1h.csv"))
    result = run_backtest(dgb, BacktestConfig("DGB_USDT"))
    assert result.stale["gaps"] > 0
    assert result.decided + sum(result.stale.values()) == result.candles == len(dgb)


def test_the_config_is_plain_data() -> None:
    config = BacktestConfig("ETH_USDT")
    assert dataclasses.replace(config, amount=Decimal(50)).amount == Decimal(50)
    assert config.params.rsi_buy == 30 and config.limits.max_open_per_symbol == 3
    assert Decision.BUY.value == "BUY"


def test_a_start_outside_the_candles_is_refused(btc: list[Candle]) -> None:
    with pytest.raises(ValueError, match="outside"):
        run_backtest(btc[:10], BacktestConfig("BTC_USDT"), start=10)
