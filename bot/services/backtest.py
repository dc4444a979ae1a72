"""Backtest: the product's signal strategy, order rules and paper fill model over one coin's candles.

Pure (no I/O, no clock): candles in, `BacktestResult` out. At each candle's close it does what
the running bot does: the indicators the market updater would compute (the last 500 candles),
`decide` with the tracked state, and on a new BUY the same `plan_buy` the automatic orders use
(Trade flag, max open, min move, duplicate price, balance), placed as an OTOCO (entry + SL + TP)
in the matching engine of the paper exchange, which then trades it on the following candles.
Money stays Decimal; floats only inside the indicators. The command line is in bot/cli/backtest.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bot.domain.money import ZERO
from bot.domain.order_rules import Refusal, RuleLimits
from bot.domain.orders import OrderStatus, OrderType, Side
from bot.domain.strategy import Decision, StrategyParams, TrackedState, decide
from bot.exchange.base import Candle
from bot.exchange.engine import EngineOrder, EngineReject, MatchingEngine
from bot.exchange.marketdata import instrument_for, timeframe_ms
from bot.services.auto_orders import plan_buy
from bot.services.indicators import CandleArrays, indicators_at


@dataclass(frozen=True)
class BacktestConfig:
    symbol: str
    timeframe: str = "1h"
    params: StrategyParams = field(default_factory=StrategyParams)
    amount: Decimal = Decimal(100)                 # quote currency (USD) per automatic buy
    starting_quote: Decimal = Decimal(10000)
    limits: RuleLimits = field(default_factory=RuleLimits)
    stop_loss_percent: Decimal = Decimal(3)
    take_profit_percent: Decimal = Decimal(3)
    maker_fee_percent: Decimal = Decimal("0.25")
    taker_fee_percent: Decimal = Decimal("0.5")
    slippage_percent: Decimal = Decimal("0.05")


@dataclass(frozen=True)
class Trade:
    entry_ms: int                  # close time of the candle whose BUY placed it
    price: Decimal                 # the entry limit
    quantity: Decimal
    filled: bool
    cost: Decimal                  # entry value + fee, quote
    exit_ms: int | None = None
    exit: str = "open"             # "take_profit" | "stop_loss" | "open" (still held) | "unfilled"
    proceeds: Decimal = ZERO       # exit value - fee, quote
    fees: Decimal = ZERO

    @property
    def closed(self) -> bool:
        return self.exit in ("take_profit", "stop_loss")

    @property
    def pnl(self) -> Decimal:
        return self.proceeds - self.cost if self.closed else ZERO


@dataclass(frozen=True)
class EquityPoint:
    time_ms: int                   # candle close
    close: Decimal
    equity: Decimal                # quote + base at the close, quote


@dataclass(frozen=True)
class BacktestResult:
    config: BacktestConfig
    first_ms: int                  # open of the first candle of the period
    last_ms: int                   # open of the last one
    candles: int                   # candles in the period
    history: int                   # candles before it, used for indicators only
    decided: int                   # candles with fresh indicators (a decision was made)
    stale: Counter[str]            # stale reason -> candles (gaps, zero volume, warm-up)
    signals: Counter[str]          # "BUY" / "SELL" / "WAIT" -> candles; "BUY new" -> changed BUYs
    refusals: Counter[str]         # rule -> refused BUY signals
    trades: tuple[Trade, ...]
    equity: tuple[EquityPoint, ...]
    fees: Decimal
    starting_equity: Decimal

    @property
    def final_equity(self) -> Decimal:
        return self.equity[-1].equity if self.equity else self.starting_equity

    @property
    def pnl(self) -> Decimal:
        return self.final_equity - self.starting_equity

    @property
    def pnl_percent(self) -> Decimal:
        return self.pnl / self.starting_equity * 100 if self.starting_equity else ZERO

    @property
    def closed_trades(self) -> list[Trade]:
        return [t for t in self.trades if t.closed]

    @property
    def win_rate_percent(self) -> Decimal | None:
        closed = self.closed_trades
        return Decimal(sum(1 for t in closed if t.pnl > 0)) / len(closed) * 100 if closed else None

    @property
    def max_drawdown(self) -> tuple[Decimal, Decimal]:
        """Deepest fall from a previous equity peak: (quote amount, percent of that peak)."""
        peak, worst, worst_percent = self.starting_equity, ZERO, ZERO
        for point in self.equity:
            peak = max(peak, point.equity)
            fall = peak - point.equity
            if fall > worst:
                worst, worst_percent = fall, fall / peak * 100
        return worst, worst_percent


def run_backtest(candles: Sequence[Candle], config: BacktestConfig, *, start: int = 0,
                 progress: Callable[[int], None] | None = None) -> BacktestResult:
    """Trade `candles[start:]`; `candles[:start]` is history for the indicators only.
    `progress(n)` is called with the number of candles done since the previous call."""
    if not 0 <= start < len(candles):
        raise ValueError(f"start {start} outside the {len(candles)} candles")
    symbol, step_ms = config.symbol, timeframe_ms(config.timeframe)
    instrument = instrument_for(symbol, list(candles))
    engine = MatchingEngine({symbol: instrument}, {instrument.quote: config.starting_quote},
                            maker_fee_percent=config.maker_fee_percent, taker_fee_percent=config.taker_fee_percent,
                            slippage_percent=config.slippage_percent)
    opening = candles[start - 1].close if start else candles[0].open
    engine.set_price(symbol, opening, (candles[start].timestamp_ms) * 1_000_000)
    arrays = CandleArrays.of(candles)
    state = TrackedState()
    last_order_price: Decimal | None = None
    stale: Counter[str] = Counter()
    signals: Counter[str] = Counter()
    refusals: Counter[str] = Counter()
    placed: list[tuple[int, str]] = []           # (decision time, OTOCO list id)
    equity: list[EquityPoint] = []
    decided, pending = 0, 0
    for index in range(start, len(candles)):
        candle = candles[index]
        close_ms = candle.timestamp_ms + step_ms
        now_ns = close_ms * 1_000_000
        # Orders placed at the previous close trade on this candle, as on the paper exchange.
        engine.apply_candle(symbol, candle, now_ns)
        indicators = indicators_at(arrays, index, config.timeframe)
        if indicators.stale_reason is not None:
            stale[_reason_kind(indicators.stale_reason)] += 1
        else:
            decided += 1
            verdict = decide(indicators.values, candle.close, state, config.params)
            state = verdict.state
            signals[verdict.decision.value] += 1
            if verdict.decision is Decision.BUY and verdict.changed:
                signals["BUY new"] += 1
                outcome = _buy(engine, config, instrument, candle.close, last_order_price, now_ns, len(placed))
                if isinstance(outcome, Refusal):
                    refusals[outcome.rule] += 1
                else:
                    placed.append((close_ms, outcome[0]))
                    last_order_price = outcome[1]
        equity.append(EquityPoint(close_ms, candle.close, _equity(engine, instrument.quote, instrument.base,
                                                                  candle.close)))
        pending += 1
        if progress is not None and pending >= 250:
            progress(pending)
            pending = 0
    if progress is not None and pending:
        progress(pending)
    trades = tuple(_trade(engine.list_orders(list_id), at_ms) for at_ms, list_id in placed)
    return BacktestResult(config, candles[start].timestamp_ms, candles[-1].timestamp_ms, len(candles) - start,
                          start, decided, stale, signals, refusals, trades, tuple(equity),
                          sum((t.fees for t in trades), ZERO), config.starting_quote)


def _buy(engine: MatchingEngine, config: BacktestConfig, instrument: Any, price: Decimal,
         last_order_price: Decimal | None, now_ns: int, serial: int) -> tuple[str, Decimal] | Refusal:
    """What AutoOrderService.consider does, against the engine: (list id, limit) or the refusal."""
    symbol = instrument.symbol
    plan = plan_buy(instrument, price, config.amount, trade_enabled=True,
                    open_buy_prices=tuple(o.price for o in engine.open_orders(symbol)
                                          if o.side is Side.BUY and o.price is not None),
                    last_order_price=last_order_price, free_quote=engine.free(instrument.quote),
                    limits=config.limits, stop_loss_percent=config.stop_loss_percent,
                    take_profit_percent=config.take_profit_percent)
    if isinstance(plan, Refusal):
        return plan
    # The legs as PaperExchange.create_otoco sends them: the stop rounded so it fires no earlier
    # than asked, the take-profit a TAKE_PROFIT_LIMIT rounded so it takes no less than asked.
    take = instrument.round_price(plan.take_profit, Side.SELL, role="take_profit")
    legs = [dict(symbol=symbol, side=Side.BUY, order_type=OrderType.LIMIT, client_oid=f"bt-{serial}",
                 quantity=plan.quantity, price=plan.price),
            dict(symbol=symbol, side=Side.SELL, order_type=OrderType.STOP_LOSS, client_oid=f"bt-{serial}-sl",
                 quantity=plan.quantity,
                 trigger_price=instrument.round_price(plan.stop_loss, Side.SELL, role="stop_loss")),
            dict(symbol=symbol, side=Side.SELL, order_type=OrderType.TAKE_PROFIT_LIMIT,
                 client_oid=f"bt-{serial}-tp", quantity=plan.quantity, trigger_price=take, price=take)]
    try:
        list_id, _ = engine.place_otoco(legs, now_ns)
    except EngineReject as reject:
        return Refusal("exchange_refused", str(reject))
    return list_id, plan.price


def _equity(engine: MatchingEngine, quote: str, base: str, close: Decimal) -> Decimal:
    balances = engine.balances()
    return balances.get(quote, (ZERO, ZERO))[0] + balances.get(base, (ZERO, ZERO))[0] * close


def _trade(legs: list[EngineOrder], at_ms: int) -> Trade:
    by_role = {leg.leg_role: leg for leg in legs}
    entry = by_role["entry"]
    cost = entry.cumulative_value + entry.fee
    if entry.status is not OrderStatus.FILLED:
        return Trade(at_ms, entry.price or ZERO, entry.quantity, False, cost, exit="unfilled", fees=entry.fee)
    for role in ("take_profit", "stop_loss"):
        leg = by_role[role]
        if leg.status is OrderStatus.FILLED:
            return Trade(at_ms, entry.price or ZERO, entry.quantity, True, cost, leg.update_time_ns // 1_000_000,
                         role, leg.cumulative_value - leg.fee, entry.fee + leg.fee)
    return Trade(at_ms, entry.price or ZERO, entry.quantity, True, cost, fees=entry.fee)


def _reason_kind(reason: str) -> str:
    """'gaps: 3 missing candles in the last 214' -> 'gaps': counts group by kind, not by number."""
    return reason.split(":", 1)[0]

