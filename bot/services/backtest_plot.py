"""The backtest's equity-curve PNG (matplotlib, no display needed).

Floats appear only here, for drawing; the figures printed by the command stay Decimal.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.services.backtest import BacktestResult


def write_equity_png(result: BacktestResult, path: Path) -> None:
    # The Figure API with the Agg canvas: no pyplot global state, no GUI backend, safe in any process.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    times = [datetime.fromtimestamp(p.time_ms / 1000, UTC) for p in result.equity]
    figure = Figure(figsize=(11, 6.5), dpi=110)
    FigureCanvasAgg(figure)
    price_axis, equity_axis = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    config = result.config
    price_axis.plot(times, [float(p.close) for p in result.equity], color="#555", linewidth=0.8, label="close")
    for exit_kind, colour, marker in (("take_profit", "#1a9850", "^"), ("stop_loss", "#d73027", "v"),
                                      ("open", "#4575b4", "o"), ("unfilled", "#999", "x")):
        chosen = [t for t in result.trades if t.exit == exit_kind]
        if chosen:
            price_axis.scatter([datetime.fromtimestamp(t.entry_ms / 1000, UTC) for t in chosen],
                               [float(t.price) for t in chosen], color=colour, marker=marker, s=28, zorder=3,
                               label=f"buy, then {exit_kind.replace('_', ' ')} ({len(chosen)})")
    price_axis.set_title(f"{config.symbol} {config.timeframe} backtest: P/L {float(result.pnl):+,.2f} "
                         f"({float(result.pnl_percent):+.2f} %), max drawdown "
                         f"{float(result.max_drawdown[1]):.2f} %")
    price_axis.set_ylabel("price")
    price_axis.legend(loc="best", fontsize=8)
    price_axis.grid(alpha=0.3)
    equity_axis.plot(times, [float(p.equity) for p in result.equity], color="#4575b4", linewidth=1.0)
    equity_axis.axhline(float(result.starting_equity), color="#999", linewidth=0.7, linestyle="--")
    equity_axis.set_ylabel("equity")
    equity_axis.grid(alpha=0.3)
    figure.autofmt_xdate()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
