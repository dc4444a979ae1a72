"""`python -m bot backtest SYMBOL --timeframe 1h --from YYYY-MM-DD --to YYYY-MM-DD [--data DIR] [--output PNG]`.

Thin: finds and checks the candle file and the dates, runs `run_backtest` with the settings'
strategy parameters and paper fees, prints the summary and writes the equity-curve PNG. Every
input problem ends with one line naming it (and what is available) and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from bot.cli.parsing import positive_decimal
from bot.domain.money import plain
from bot.domain.strategy import StrategyParams
from bot.exchange.base import Candle
from bot.exchange.marketdata import load_candles, timeframe_ms
from bot.services.backtest import BacktestConfig, BacktestResult, run_backtest
from bot.services.indicators import MIN_CANDLES
from bot.services.watchlist import normalise_symbol
from bot.settings import Settings, parse_balances

BUNDLED = Path(__file__).resolve().parents[1] / "data" / "candles"
DEFAULT_AMOUNT = Decimal(100)       # USD per automatic buy, as a watchlist coin is usually set up


class BacktestInputError(Exception):
    """What is wrong with the command's input, in one line."""


@dataclass(frozen=True)
class Period:
    candles: list[Candle]           # up to the end of the period (earlier ones are indicator history)
    start: int                      # index of the period's first candle
    source: Path
    source_note: str
    first: date | None = None       # the days the user typed (--from / --to), reported as typed
    last: date | None = None


def resolve_data_dir(settings: Settings, option: str | None) -> tuple[Path, str]:
    if option:
        return Path(option), "--data"
    if settings.MARKET_DATA.startswith("replay:"):
        return Path(settings.MARKET_DATA.removeprefix("replay:")), "MARKET_DATA"
    return BUNDLED, "bundled; --data DIR or MARKET_DATA=replay:DIR for others"


def parse_day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BacktestInputError(f"{option} {text!r} is not a date; expected YYYY-MM-DD") from None


def candle_file(directory: Path, symbol: str, timeframe: str) -> Path:
    if not directory.is_dir():
        raise BacktestInputError(f"no candle folder {directory}")
    path = directory / f"{symbol}-{timeframe}.csv"
    if path.is_file():
        return path
    same_timeframe = sorted(p.name.rsplit("-", 1)[0] for p in directory.glob(f"*-{timeframe}.csv"))
    other = sorted(p.stem.rsplit("-", 1)[1] for p in directory.glob(f"{symbol}-*.csv"))
    hint = f"; {symbol} has {', '.join(other)}" if other else ""
    available = ", ".join(same_timeframe) if same_timeframe else "none"
    raise BacktestInputError(f"no {timeframe} candles for {symbol} in {directory}{hint}; "
                             f"{timeframe} files there: {available}")


def select_period(candles: list[Candle], first: date | None, last: date | None, timeframe: str,
                  path: Path) -> tuple[list[Candle], int]:
    """Candles up to the end of `last` (inclusive) and the index where `first` begins."""
    if not candles:
        raise BacktestInputError(f"{path} has no candles")
    if first and last and first > last:
        raise BacktestInputError(f"--from {first} is after --to {last}")
    times = [c.timestamp_ms for c in candles]
    start = bisect_left(times, _ms(first)) if first else 0
    end = bisect_left(times, _ms(last + timedelta(days=1))) if last else len(candles)
    if start >= end:
        raise BacktestInputError(f"no candles from {first or 'the start'} to {last or 'the end'} in {path.name}; "
                                 f"it covers {_day(times[0])} to {_day(times[-1])}")
    if end < MIN_CANDLES:
        raise BacktestInputError(f"too little history: {end} {timeframe} candles up to {last or _day(times[-1])}, "
                                 f"the indicators need {MIN_CANDLES}; {path.name} starts {_day(times[0])}")
    return candles[:end], start


def parse_amount(text: str | None) -> Decimal | None:
    """--amount: a positive number of the quote currency per buy; None for the default."""
    return None if text is None else positive_decimal(text, "--amount", example="100", error=BacktestInputError)


def check_output(text: str | None) -> Path | None:
    """--output: a PNG path whose folder exists (never created: a typo would leave folders behind)."""
    if text is None:
        return None
    path = Path(text)
    if path.is_dir():
        raise BacktestInputError(f"--output {text} is a folder; name a PNG file, e.g. {path / 'backtest.png'}")
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise BacktestInputError(f"--output folder {folder} {what}")
    return path


def load_period(settings: Settings, args: argparse.Namespace) -> tuple[str, Period]:
    symbol = normalise_symbol(args.symbol)
    timeframe = args.timeframe
    try:
        timeframe_ms(timeframe)
    except ValueError:
        raise BacktestInputError(f"unknown timeframe {timeframe!r}; e.g. 5m, 1h, 4h, 1d") from None
    first, last = parse_day(args.date_from, "--from"), parse_day(args.date_to, "--to")
    directory, note = resolve_data_dir(settings, args.data)
    path = candle_file(directory, symbol, timeframe)
    try:
        candles = load_candles(path)
    except (KeyError, ValueError, ArithmeticError) as exc:
        raise BacktestInputError(f"{path} is not a candle file (timestamp_ms,open,high,low,close,volume): "
                                 f"{exc}") from None
    selected, start = select_period(candles, first, last, timeframe, path)
    return symbol, Period(selected, start, path, note, first, last)


def config_from(settings: Settings, symbol: str, timeframe: str, amount: Decimal | None) -> BacktestConfig:
    quote = symbol.split("_", 1)[1] if "_" in symbol else "USDT"
    balances = parse_balances(settings.PAPER_STARTING_BALANCES)
    return BacktestConfig(
        symbol=symbol, timeframe=timeframe,
        params=StrategyParams(rsi_buy=settings.STRATEGY_RSI_BUY, rsi_sell=settings.STRATEGY_RSI_SELL,
                              min_volume_ratio=settings.STRATEGY_MIN_VOLUME_RATIO,
                              rebuy_move_percent=settings.STRATEGY_REBUY_MOVE_PERCENT),
        amount=amount if amount is not None else DEFAULT_AMOUNT,
        starting_quote=balances.get(quote, balances.get("USDT", Decimal(10000))),
        maker_fee_percent=settings.PAPER_MAKER_FEE_PERCENT, taker_fee_percent=settings.PAPER_TAKER_FEE_PERCENT,
        slippage_percent=settings.PAPER_SLIPPAGE_PERCENT)


async def run_backtest_cli(settings: Settings, args: argparse.Namespace, *, out: TextIO | None = None,
                           err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    try:
        symbol, period = load_period(settings, args)
    except BacktestInputError as exc:
        print(f"backtest: {exc}", file=err)
        return 2
    try:
        amount = parse_amount(getattr(args, "amount", None))     # when the parser offers --amount
        output = check_output(args.output)
    except BacktestInputError as exc:
        print(f"backtest: {exc}", file=err)
        return 2
    config = config_from(settings, symbol, args.timeframe, amount)
    result = _run_with_progress(period, config, err)
    if output is None:
        output = Path(f"backtest_{symbol}_{args.timeframe}_{_day(result.first_ms)}_{_day(result.last_ms)}.png")
    print(summary(result, period), file=out)
    from bot.services.backtest_plot import write_equity_png

    write_equity_png(result, output)
    print(f"equity curve: {output}", file=out)
    return 0


def _run_with_progress(period: Period, config: BacktestConfig, err: TextIO) -> BacktestResult:
    from tqdm import tqdm

    # disable=None: a bar on a terminal, nothing in a pipe or a log.
    with tqdm(total=len(period.candles) - period.start, unit="candle", file=err, disable=None,
              desc=f"backtest {config.symbol}", leave=False) as bar:
        return run_backtest(period.candles, config, start=period.start, progress=bar.update)


def summary(result: BacktestResult, period: Period) -> str:
    c = result.config
    quote = c.symbol.split("_", 1)[1] if "_" in c.symbol else "USDT"
    closed = result.closed_trades
    won = sum(1 for t in closed if t.pnl > 0)
    still_open = sum(1 for t in result.trades if t.exit == "open")
    unfilled = sum(1 for t in result.trades if t.exit == "unfilled")
    drawdown, drawdown_percent = result.max_drawdown
    win_rate = "n/a" if result.win_rate_percent is None else f"{_pct(result.win_rate_percent)} %"
    first_close = period.candles[period.start].close
    hold = (period.candles[-1].close / first_close - 1) * 100
    stale = ", ".join(f"{kind} {n:,}" for kind, n in sorted(result.stale.items())) or "none"
    refused = ", ".join(f"{rule} {n:,}" for rule, n in sorted(result.refusals.items())) or "none"
    undecided = sum(result.stale.values())
    lines = [
        f"Backtest {c.symbol} {c.timeframe}: {period_text(result, period)}, "
        f"{result.candles:,} candles ({result.history:,} earlier ones as indicator history)",
        f"data: {period.source} ({period.source_note})",
        f"strategy: RSI < {plain(c.params.rsi_buy)} buys, > {plain(c.params.rsi_sell)} sells, volume >= "
        f"{plain(c.params.min_volume_ratio)}x, rebuy after {plain(c.params.rebuy_move_percent)} %; rules: max "
        f"{c.limits.max_open_per_symbol} open buys, min move {plain(c.limits.min_price_move_percent)} %, "
        f"no duplicate price, balance; {plain(c.amount)} {quote} a buy, SL {plain(c.stop_loss_percent)} % / "
        f"TP {plain(c.take_profit_percent)} %",
        f"paper fills: maker {plain(c.maker_fee_percent)} %, taker {plain(c.taker_fee_percent)} %, slippage "
        f"{plain(c.slippage_percent)} %; start {_money(result.starting_equity)} {quote}",
        f"decisions: {result.decided:,} (BUY {result.signals['BUY']:,}, of them new {result.signals['BUY new']:,}; "
        f"SELL {result.signals['SELL']:,}; WAIT {result.signals['WAIT']:,}); no decision on {undecided:,} "
        f"(stale: {stale})",
        f"orders: {len(result.trades):,} placed; refused: {refused}",
        f"trades: {len(closed):,} closed ({won:,} won, {len(closed) - won:,} lost), {still_open:,} still open, "
        f"{unfilled:,} never filled; win rate {win_rate}",
        f"P/L: {_signed(result.pnl)} {quote} ({_signed(result.pnl_percent, 2)} %), final equity "
        f"{_money(result.final_equity)} {quote}; holding {c.symbol.split('_')[0]} instead: {_signed(hold, 2)} %",
        f"max drawdown: {_money(drawdown)} {quote} ({_pct(drawdown_percent)} %); fees paid: {_money(result.fees)} "
        f"{quote}",
    ]
    return "\n".join(lines)


def period_text(result: BacktestResult, period: Period) -> str:
    """The days the user asked for, as typed (whole UTC days); what the data really covers only when
    it covers less."""
    step = timeframe_ms(result.config.timeframe)
    first = period.first or datetime.fromtimestamp(result.first_ms / 1000, UTC).date()
    last = period.last or datetime.fromtimestamp((result.last_ms + step) / 1000 - 1, UTC).date()
    text = f"{first} to {last} UTC"
    starts_late = period.first is not None and result.first_ms > _ms(period.first)
    ends_early = period.last is not None and result.last_ms + step < _ms(period.last + timedelta(days=1))
    if starts_late or ends_early:
        text += f" (the candles cover only {_when(result.first_ms)} to {_when(result.last_ms + step)})"
    return text


def _ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):,}"


def _signed(value: Decimal, places: int = 2) -> str:
    text = f"{value.quantize(Decimal(1).scaleb(-places)):,}"
    return text if text.startswith("-") else f"+{text}"


def _pct(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"
